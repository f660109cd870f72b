import { setTimeout as delay } from 'node:timers/promises';

/**
 * What a resumed connection must bring for the read to count as going well. Less, and the resume
 * counts as a failed attempt: an origin that sends a few bytes and goes silent on every connection
 * fails the read after its attempts instead of costing a stall per byte.
 */
const progressBytes = 64 * 1024;

/** A range's connection failed (reset, or silent too long) with `held` bytes of the range in. */
export class RangeInterrupted extends Error {
  override name = 'RangeInterrupted';
  readonly held: number;
  constructor(held: number, cause: unknown) {
    super(`the range's connection failed after ${held} bytes`, { cause });
    this.held = held;
  }
}

export interface ResumeOptions {
  attempts: number;
  /** Whether another attempt may succeed; a RangeInterrupted always may. */
  retriable?: (error: unknown) => boolean;
  /** The pause before attempt n + 1 after n failed (default none). */
  backoffMs?: (failed: number) => number;
  /** Aborted when the origin closes (a drained job): no attempt starts after, and its reason is thrown. */
  signal?: AbortSignal;
}

/**
 * Reads a range of `count` bytes into one buffer with `fill(into, held)`, which reads the rest of
 * it from `held` bytes in and throws RangeInterrupted when its connection fails on the way. The
 * read goes on at once where it stopped: what came is kept and no byte is asked for twice. On the
 * last failed attempt the cause is thrown, as the origin's own error.
 */
export async function readResumably(count: number, fill: (into: Buffer, held: number) => Promise<void>, options: ResumeOptions): Promise<Buffer> {
  const into = Buffer.allocUnsafe(count);
  let held = 0;
  for (let failed = 1; ; failed++) {
    options.signal?.throwIfAborted();
    try {
      await fill(into, held);
      return into;
    } catch (error) {
      options.signal?.throwIfAborted();
      if (error instanceof RangeInterrupted) {
        const brought = error.held - held;
        held = error.held;
        if (brought >= Math.min(progressBytes, count)) {
          failed = 0;
          continue;
        }
      }
      const retriable = error instanceof RangeInterrupted || (options.retriable?.(error) ?? false);
      if (!retriable || failed >= options.attempts) throw error instanceof RangeInterrupted ? error.cause : error;
      const pause = options.backoffMs?.(failed) ?? 0;
      if (pause > 0) await delay(pause, undefined, options.signal === undefined ? {} : { signal: options.signal });
    }
  }
}
