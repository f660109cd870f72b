import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { RevisionConflictError, TorrentEdgeError } from '../../src/errors.ts';
import type { EventLog, RecordedEvent, StoredEvent } from '../../src/events/eventLog.ts';
import { newEvent } from '../helpers/newEvent.ts';
import { waitFor } from '../helpers/waitFor.ts';

export interface EventLogUnderTest {
  eventLog: EventLog;
  close(): Promise<void>;
}


const stream = (label: string) => `contract-${label}-${randomUUID()}`;

/**
 * What every event-log adapter must do. Run for each adapter with a factory that returns a
 * fresh, empty log.
 */
export function eventLogContract(adapter: string, create: () => Promise<EventLogUnderTest>): void {
  describe(`event log contract: ${adapter}`, () => {
    let subject: EventLogUnderTest;
    let log: EventLog;

    before(async () => {
      subject = await create();
      log = subject.eventLog;
    });
    after(() => subject.close());

    it('appends to a new stream at revisions 0..n-1 with increasing positions', async () => {
      const id = stream('new');
      const result = await log.appendToStream(id, [newEvent('A', { n: 1 }), newEvent('B', { n: 2 })], { expectedRevision: 'no_stream' });
      assert.equal(result.outcome, 'appended');
      assert.equal(result.outcome === 'appended' && result.streamRevision, 1);
      const read = await log.readStream(id);
      assert.equal(read.revision, 1);
      assert.deepEqual(read.events.map((e) => [e.type, e.streamRevision, e.data]), [['A', 0, { n: 1 }], ['B', 1, { n: 2 }]]);
      assert.ok(read.events[0]!.globalPosition < read.events[1]!.globalPosition);
    });

    it('keeps metadata as given', async () => {
      const id = stream('meta');
      const event = newEvent('A');
      event.metadata.traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      await log.appendToStream(id, [event], { expectedRevision: 'no_stream' });
      const [stored] = (await log.readStream(id)).events;
      assert.deepEqual(stored!.metadata, event.metadata);
      assert.equal(stored!.eventId, event.metadata.eventId);
      assert.ok(stored!.recordedAt instanceof Date);
    });

    it('reads a stream that does not exist as revision -1 with no events', async () => {
      assert.deepEqual(await log.readStream(stream('missing')), { revision: -1, events: [] });
    });

    it('rejects an append at a stale revision and appends nothing', async () => {
      const id = stream('stale');
      await log.appendToStream(id, [newEvent('A')], { expectedRevision: 'no_stream' });
      await log.appendToStream(id, [newEvent('B')], { expectedRevision: 0 });
      await assert.rejects(log.appendToStream(id, [newEvent('C')], { expectedRevision: 0 }), RevisionConflictError);
      await assert.rejects(log.appendToStream(id, [newEvent('C')], { expectedRevision: 'no_stream' }), RevisionConflictError);
      await assert.rejects(log.appendToStream(stream('absent'), [newEvent('C')], { expectedRevision: 3 }), RevisionConflictError);
      assert.deepEqual((await log.readStream(id)).events.map((e) => e.type), ['A', 'B']);
    });

    it('appends at any revision when told to', async () => {
      const id = stream('any');
      await log.appendToStream(id, [newEvent('A')], { expectedRevision: 'any' });
      await log.appendToStream(id, [newEvent('B')], { expectedRevision: 'any' });
      assert.equal((await log.readStream(id)).revision, 1);
    });

    it('lets exactly one of several concurrent appends at the same revision win', async () => {
      const id = stream('race');
      await log.appendToStream(id, [newEvent('A')], { expectedRevision: 'no_stream' });
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, () => log.appendToStream(id, [newEvent('B')], { expectedRevision: 0 })),
      );
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof RevisionConflictError);
      assert.equal((await log.readStream(id)).revision, 1);
    });

    it('returns the stored result for a repeated request id and appends nothing', async () => {
      const id = stream('idem');
      const claim = { requestId: randomUUID(), fingerprint: 'f1', result: { id: 'x', status: 'requested' } };
      const first = await log.appendToStream(id, [newEvent('A')], { expectedRevision: 'no_stream', idempotency: claim });
      assert.equal(first.outcome, 'appended');
      const again = await log.appendToStream(stream('idem-other'), [newEvent('A')], { expectedRevision: 'no_stream', idempotency: claim });
      assert.deepEqual(again, { outcome: 'duplicate', result: claim.result });
      assert.deepEqual(await log.readIdempotencyKey(claim.requestId), { fingerprint: 'f1', result: claim.result });
      assert.equal((await log.readStream(id)).events.length, 1);
    });

    it('refuses a repeated request id with another fingerprint and appends nothing', async () => {
      const requestId = randomUUID();
      await log.appendToStream(stream('idem'), [newEvent('A')], {
        expectedRevision: 'no_stream',
        idempotency: { requestId, fingerprint: 'f1', result: {} },
      });
      const other = stream('idem-mismatch');
      await assert.rejects(
        log.appendToStream(other, [newEvent('A')], { expectedRevision: 'no_stream', idempotency: { requestId, fingerprint: 'f2', result: {} } }),
        (error: unknown) => error instanceof TorrentEdgeError && error.code === 'TE_ERR_IDEMPOTENCY_MISMATCH',
      );
      assert.equal((await log.readStream(other)).revision, -1);
    });

    it('claims a request id once when concurrent appends race for it', async () => {
      const requestId = randomUUID();
      const streams = Array.from({ length: 10 }, () => stream('idem-race'));
      const results = await Promise.all(
        streams.map((id) =>
          log.appendToStream(id, [newEvent('A')], { expectedRevision: 'no_stream', idempotency: { requestId, fingerprint: 'same', result: { id } } }),
        ),
      );
      assert.equal(results.filter((r) => r.outcome === 'appended').length, 1);
      const winners = await Promise.all(streams.map(async (id) => (await log.readStream(id)).events.length));
      assert.equal(winners.reduce((a, b) => a + b, 0), 1);
      const winner = streams[winners.indexOf(1)];
      for (const r of results) if (r.outcome === 'duplicate') assert.deepEqual(r.result, { id: winner });
    });

    it('reads all events in log order from the start and after a checkpoint, in pages', async () => {
      const before = await readEverything(log);
      const id = stream('all');
      await log.appendToStream(id, [newEvent('A'), newEvent('B'), newEvent('C')], { expectedRevision: 'no_stream' });
      const everything = await readEverything(log);
      assert.deepEqual(everything.slice(0, before.length).map((e) => e.eventId), before.map((e) => e.eventId));
      assert.deepEqual(everything.slice(before.length).map((e) => e.type), ['A', 'B', 'C']);
      const afterFirst = await log.readAll({ after: everything[before.length]!.checkpoint, limit: 10 });
      assert.deepEqual(afterFirst.map((e) => e.type), ['B', 'C']);
      const page = await log.readAll({ limit: 2 });
      assert.equal(page.length, 2);
    });

    it('reads events as stored: the same events, data as JSON text of the same value, the record time as toISOString', async () => {
      const id = stream('stored');
      const data = { quote: 'say "hi"\n', unicode: 'äöü ✓', nested: { list: [1, 2.5, null, true], empty: {} }, big: 2 ** 40 };
      await log.appendToStream(id, [newEvent('A', data), newEvent('B')], { expectedRevision: 'no_stream' });
      const recorded = (await readEverything(log)).filter((e) => e.streamId === id);
      const stored: StoredEvent[] = [];
      for (;;) {
        const last = stored[stored.length - 1];
        const page = await log.readAllStored({ ...(last ? { after: last.checkpoint } : {}), limit: 100 });
        if (page.length === 0) break;
        stored.push(...page);
      }
      const ours = stored.filter((e) => e.streamId === id);
      assert.deepEqual(
        ours.map(({ dataJson, recordedAtIso, ...rest }) => ({ ...rest, data: JSON.parse(dataJson) as unknown, recordedAt: recordedAtIso })),
        recorded.map(({ recordedAt, ...rest }) => ({ ...rest, recordedAt: recordedAt.toISOString() })),
      );
      assert.deepEqual(JSON.parse(ours[0]!.dataJson), data);
    });

    it('subscribes as stored with read ahead: every event once, in log order, across full batches', async () => {
      const id = stream('ahead');
      const from = (await readEverything(log)).at(-1)?.checkpoint;
      await log.appendToStream(id, Array.from({ length: 23 }, (_, n) => newEvent('N', { n })), { expectedRevision: 'no_stream' });
      const seen: StoredEvent[] = [];
      const subscription = log.subscribeStored(
        { ...(from === undefined ? {} : { after: from }), batchSize: 5, readAhead: true },
        { onEvents: async (events) => void seen.push(...events), onError: (error) => assert.fail(String(error)) },
      );
      try {
        await waitFor('catch-up', () => seen.filter((e) => e.streamId === id).length === 23);
        await log.appendToStream(id, [newEvent('N', { n: 23 })], { expectedRevision: 22 });
        await waitFor('live delivery', () => seen.filter((e) => e.streamId === id).length === 24);
        assert.deepEqual(seen.filter((e) => e.streamId === id).map((e) => (JSON.parse(e.dataJson) as { n: number }).n), Array.from({ length: 24 }, (_, n) => n));
        assert.equal(new Set(seen.map((e) => e.eventId)).size, seen.length, 'no event delivered twice');
      } finally {
        await subscription.stop();
      }
    });

    it('reads the streams that share a prefix, in log order', async () => {
      const prefix = `contract-prefix-${randomUUID()}`;
      await log.appendToStream(`${prefix}.a`, [newEvent('A1')], { expectedRevision: 'no_stream' });
      await log.appendToStream(`${prefix}.b`, [newEvent('B1')], { expectedRevision: 'no_stream' });
      await log.appendToStream(`${prefix}.a`, [newEvent('A2')], { expectedRevision: 0 });
      await log.appendToStream(`contract-elsewhere-${randomUUID()}`, [newEvent('X')], { expectedRevision: 'no_stream' });
      const events = await log.readStreamsWithPrefix([`${prefix}.`]);
      assert.deepEqual(events.map((e) => e.type), ['A1', 'B1', 'A2']);
      assert.deepEqual(await log.readStreamsWithPrefix([`${prefix}%`]), [], 'prefixes are literal, not patterns');
    });

    it('reports the head position', async () => {
      const result = await log.appendToStream(stream('head'), [newEvent('A')], { expectedRevision: 'no_stream' });
      assert.ok(result.outcome === 'appended');
      assert.ok((await log.headPosition()) >= result.lastPosition);
    });

    it('subscribes: catches up from a checkpoint, then delivers live appends without polling', async () => {
      const id = stream('sub');
      await log.appendToStream(id, [newEvent('old')], { expectedRevision: 'no_stream' });
      const everything = await readEverything(log);
      const from = everything[everything.length - 2]?.checkpoint; // the event before ours
      const seen: RecordedEvent[] = [];
      const subscription = log.subscribe(
        { ...(from === undefined ? {} : { after: from }), batchSize: 2 },
        { onEvents: async (events) => void seen.push(...events), onError: (error) => assert.fail(String(error)) },
      );
      try {
        await waitFor('catch-up', () => seen.some((e) => e.type === 'old'));
        const appendedAt = performance.now();
        await log.appendToStream(id, [newEvent('live1'), newEvent('live2'), newEvent('live3')], { expectedRevision: 0 });
        await waitFor('live delivery', () => seen.filter((e) => e.streamId === id).length === 4);
        // Live delivery is push (the safety poll runs once a second): well under that here.
        assert.ok(performance.now() - appendedAt < 900, `live delivery took ${performance.now() - appendedAt} ms`);
        assert.deepEqual(seen.filter((e) => e.streamId === id).map((e) => e.type), ['old', 'live1', 'live2', 'live3']);
        const positions = seen.map((e) => e.eventId);
        assert.equal(new Set(positions).size, positions.length, 'no event delivered twice');
      } finally {
        await subscription.stop();
      }
    });
  });
}

async function readEverything(log: EventLog): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  for (;;) {
    const last = all[all.length - 1];
    const page = await log.readAll({ ...(last ? { after: last.checkpoint } : {}), limit: 100 });
    if (page.length === 0) return all;
    all.push(...page);
  }
}
