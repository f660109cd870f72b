import { randomBytes, randomUUID } from 'node:crypto';
import type { EventLog, NewEvent } from '../../src/events/eventLog.ts';

const chunksPerEvent = 16;

/**
 * A ChunksVerified event as a node's progress report appends it, with a trace context as an
 * HTTP command carries: the bulk of the log in a running fleet. No JobAssigned, so the relay
 * publishes to the events topic only, as the baseline does.
 */
export function chunksVerified(index: number, eventId: string = randomUUID()): NewEvent {
  const first = (index * chunksPerEvent) % 4096;
  return {
    type: 'ChunksVerified',
    data: {
      transferId: randomUUID(),
      nodeId: `node-${index % 64}`,
      fencingToken: 1,
      source: 'peer',
      chunkIndexes: Array.from({ length: chunksPerEvent }, (_, offset) => first + offset),
      bytes: chunksPerEvent * 4 * 2 ** 20,
    },
    metadata: {
      eventId,
      requestId: randomUUID(),
      traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
      actor: 'bench',
      occurredAt: new Date().toISOString(),
      schemaVersion: 1,
    },
  };
}

/**
 * Fills the log with `count` events: appends of `perAppend` events, round-robin over `streams`
 * streams, `concurrency` appends in flight. Untimed setup, as fast as the server takes it.
 */
export async function preAppend(
  eventLog: EventLog,
  options: { count: number; perAppend: number; streams: number; concurrency: number; signal: AbortSignal },
): Promise<void> {
  const appends = Math.ceil(options.count / options.perAppend);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < appends && !failed) {
      options.signal.throwIfAborted();
      const append = next++;
      const size = Math.min(options.perAppend, options.count - append * options.perAppend);
      const events = Array.from({ length: size }, (_, offset) => chunksVerified(append * options.perAppend + offset));
      await eventLog.appendToStream(`job-bench-${append % options.streams}`, events, { expectedRevision: 'any' });
    }
  };
  // allSettled: on a failure the other workers finish their append before anything is torn down.
  const outcomes = await Promise.allSettled(
    Array.from({ length: options.concurrency }, () =>
      worker().catch((error: unknown) => {
        failed = true;
        throw error;
      }),
    ),
  );
  const failure = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
}
