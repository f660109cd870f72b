import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogCheckpoint } from '../../src/events/eventLog.ts';
import { startCatchUpSubscription, type PositionedEvent } from '../../src/infra/catchUpSubscription.ts';
import { waitFor } from '../helpers/waitFor.ts';

const at = (position: number): PositionedEvent => ({ checkpoint: String(position) as LogCheckpoint, globalPosition: position });

/** A log of positions 1..size; each read records where it started and resolves when `release` is called for it. */
function fakeLog(size: number) {
  const reads: Array<{ after: number; release: () => void }> = [];
  return {
    reads,
    source: {
      readAll: (after: LogCheckpoint, limit: number) =>
        new Promise<PositionedEvent[]>((resolve) => {
          const from = Number(after);
          const events = Array.from({ length: Math.max(0, Math.min(limit, size - from)) }, (_, i) => at(from + i + 1));
          reads.push({ after: from, release: () => resolve(events) });
        }),
      onAppend: async () => async () => undefined,
    },
  };
}

const releaseNext = async (log: ReturnType<typeof fakeLog>, after: number) => {
  await waitFor(`a read after ${after}`, () => log.reads.some((read) => read.after === after));
  log.reads.find((read) => read.after === after)!.release();
};

describe('catch-up subscription read ahead', () => {
  it('reads the next batch while the handler runs a full one, and never reads ahead of a partial one', async () => {
    const log = fakeLog(5);
    const handled: number[][] = [];
    let finishHandler: (() => void) | undefined;
    const subscription = startCatchUpSubscription(
      log.source,
      { after: '0' as LogCheckpoint, batchSize: 2, safetyPollMs: 60_000, readAhead: true },
      {
        onEvents: async (events) => {
          handled.push(events.map((event) => event.globalPosition));
          await new Promise<void>((resolve) => (finishHandler = resolve));
        },
        onError: (error) => assert.fail(String(error)),
      },
    );
    await releaseNext(log, 0);
    await waitFor('the first batch handled', () => handled.length === 1);
    // The handler has not finished, and the read after 2 is already running.
    await waitFor('the read ahead', () => log.reads.some((read) => read.after === 2));
    await releaseNext(log, 2);
    finishHandler!();
    await waitFor('the second batch', () => handled.length === 2);
    await waitFor('the read ahead after 4', () => log.reads.some((read) => read.after === 4));
    await releaseNext(log, 4);
    finishHandler!();
    await waitFor('the partial batch', () => handled.length === 3);
    finishHandler!();
    await subscription.stop();
    assert.deepEqual(handled, [[1, 2], [3, 4], [5]]);
    assert.deepEqual(log.reads.map((read) => read.after), [0, 2, 4], 'no read ahead after the partial batch');
  });

  it('drops the read ahead when the handler moves the checkpoint, and stop() waits for a read in flight', async () => {
    const log = fakeLog(10);
    const handled: number[][] = [];
    const subscription = startCatchUpSubscription(
      log.source,
      { after: '0' as LogCheckpoint, batchSize: 2, safetyPollMs: 60_000, readAhead: true },
      {
        onEvents: async (events) => {
          handled.push(events.map((event) => event.globalPosition));
          return handled.length === 1 ? { resumeAfter: '7' as LogCheckpoint } : undefined;
        },
        onError: (error) => assert.fail(String(error)),
      },
    );
    await releaseNext(log, 0);
    await waitFor('the read ahead after 2', () => log.reads.some((read) => read.after === 2));
    let stopped = false;
    // The loop waits for the dropped read ahead to settle before it reads from 7.
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(!log.reads.some((read) => read.after === 7));
    await releaseNext(log, 2);
    await releaseNext(log, 7);
    await waitFor('the batch from 7', () => handled.length === 2);
    // 8..9 was full: a read ahead after 9 is in flight; stop() resolves only once it settled and
    // was handled, as a read in flight always was.
    await waitFor('the read ahead after 9', () => log.reads.some((read) => read.after === 9));
    const stopping = subscription.stop().then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(stopped, false);
    log.reads.find((read) => read.after === 9)!.release();
    await stopping;
    assert.deepEqual(handled, [[1, 2], [8, 9], [10]]);
  });
});
