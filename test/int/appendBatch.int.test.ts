import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TorrentEdgeError } from '../../src/errors.ts';
import { RevisionConflictError } from '../../src/errors.ts';
import { appendBatch } from '../../src/infra/postgres/eventLog/appendToStream.ts';
import { createPgEventLog } from '../../src/infra/postgres/eventLog/pgEventLog.ts';
import { newEvent } from '../helpers/newEvent.ts';
import { createTestStore, type TestDatabase, type TestStore } from '../helpers/testDatabase.ts';

const event = (type: string) => newEvent(type);

for (const store of ['postgres', 'pglite'] as const satisfies readonly TestStore[]) {
  describe(`te_append_batch (${store})`, () => {
    let database: TestDatabase;
    before(async () => (database = await createTestStore(store)));
    after(() => database.drop());

    it('gives each append of a batch its own outcome, in one commit', async () => {
      const log = createPgEventLog(database.db);
      await log.appendToStream('batch-existing', [event('A')], { expectedRevision: 'no_stream' });
      await log.appendToStream('batch-claimed', [event('A')], { expectedRevision: 'no_stream', idempotency: { requestId: 'r-1', fingerprint: 'f', result: { ok: 1 } } });
      const results = await appendBatch(database.db, [
        { streamId: 'batch-new', events: [event('N1'), event('N2')], expectedRevision: 'no_stream' },
        { streamId: 'batch-existing', events: [event('B')], expectedRevision: 5 },
        { streamId: 'batch-other', events: [event('X')], expectedRevision: 'no_stream', idempotency: { requestId: 'r-1', fingerprint: 'f', result: {} } },
        { streamId: 'batch-other2', events: [event('X')], expectedRevision: 'no_stream', idempotency: { requestId: 'r-1', fingerprint: 'g', result: {} } },
        { streamId: 'batch-existing', events: [event('C')], expectedRevision: 0 },
        { streamId: 'batch-existing', events: [event('D')], expectedRevision: 1 },
        { streamId: 'batch-conflict-claim', events: [event('Y')], expectedRevision: 3, idempotency: { requestId: 'r-2', fingerprint: 'f', result: {} } },
      ]);
      const summary = results.map((r) =>
        r.status === 'fulfilled' ? r.value.outcome : r.reason instanceof RevisionConflictError ? 'conflict' : (r.reason as TorrentEdgeError).code,
      );
      assert.deepEqual(summary, ['appended', 'conflict', 'duplicate', 'TE_ERR_IDEMPOTENCY_MISMATCH', 'appended', 'appended', 'conflict']);
      assert.deepEqual((await log.readStream('batch-existing')).events.map((e) => e.type), ['A', 'C', 'D']);
      assert.deepEqual((await log.readStream('batch-new')).events.map((e) => e.type), ['N1', 'N2']);
      assert.equal((await log.readStream('batch-other')).revision, -1);
      assert.equal(await log.readIdempotencyKey('r-2'), undefined, 'a conflicting append leaves its request id unused');
    });
  });
}
