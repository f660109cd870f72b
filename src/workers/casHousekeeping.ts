import { statfs } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { ContentStore } from '../cas/index.ts';

/**
 * Garbage collection of the CAS between a high and a low watermark. It runs only while the node
 * has no job, so every chunk it may remove belongs to a transfer that ended; materialized
 * artifacts are pinned by their links and stay. Without configured watermarks, 80% and 60% of the
 * CAS volume's file system.
 */
export function createCasHousekeeping(deps: { cas: ContentStore; logger: Logger; isIdle: () => boolean }, options: { highWatermarkBytes?: number | undefined; lowWatermarkBytes?: number | undefined; everyMs?: number }) {
  let running: Promise<void> | undefined;

  async function watermarks(): Promise<{ highWatermarkBytes: number; lowWatermarkBytes: number }> {
    if (options.highWatermarkBytes !== undefined && options.lowWatermarkBytes !== undefined) {
      return { highWatermarkBytes: options.highWatermarkBytes, lowWatermarkBytes: options.lowWatermarkBytes };
    }
    const disk = await statfs(deps.cas.root);
    const total = disk.blocks * disk.bsize;
    return { highWatermarkBytes: options.highWatermarkBytes ?? Math.floor(total * 0.8), lowWatermarkBytes: options.lowWatermarkBytes ?? Math.floor(total * 0.6) };
  }

  async function collect(): Promise<void> {
    if (!deps.isIdle()) return;
    const result = await deps.cas.garbageCollect(await watermarks());
    if (result.removed.length > 0) {
      deps.logger.info({ removed: result.removed.length, usedBytesBefore: result.usedBytesBefore, usedBytesAfter: result.usedBytesAfter }, 'CAS garbage collected');
    }
  }

  const timer = setInterval(() => void runOnce(), options.everyMs ?? 60_000);
  timer.unref();

  function runOnce(): Promise<void> {
    running ??= collect()
      .catch((error: unknown) => deps.logger.warn({ err: error }, 'CAS garbage collection failed'))
      .finally(() => (running = undefined));
    return running;
  }

  return {
    runOnce,
    /** Resolves when no collection is running (a job starting waits for it). */
    settled: async (): Promise<void> => {
      await running;
    },
    async stop(): Promise<void> {
      clearInterval(timer);
      await running;
    },
  };
}
