import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RecordedEvent } from '../../src/events/eventLog.ts';
import { appendToStream } from '../../src/infra/postgres/eventLog/appendToStream.ts';
import { createPgEventLog } from '../../src/infra/postgres/eventLog/pgEventLog.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.ts';
import { newEvent } from '../helpers/newEvent.ts';
import { waitFor } from '../helpers/waitFor.ts';

const event = (type: string) => newEvent(type);

/** A promise with its resolve, to hold a transaction open until the test lets it go. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('event log ordering under out-of-order commits (PostgreSQL)', () => {
  let database: TestDatabase;
  before(async () => (database = await createTestDatabase()));
  after(() => database.drop());

  it('never lets a reader skip an event whose transaction commits after a later position', async () => {
    const log = createPgEventLog(database.db);
    const delivered: RecordedEvent[] = [];
    const subscription = log.subscribe({}, { onEvents: async (events) => void delivered.push(...events), onError: assert.fail });
    const earlyAppended = gate();
    const release = gate();

    // A takes the lower position and stays uncommitted while B takes a higher one and commits.
    const transactionA = database.db.transaction(async (tx) => {
      await appendToStream(tx, { streamId: 'order-a', events: [event('A')], expectedRevision: 'no_stream' });
      earlyAppended.open();
      await release.opened;
    });
    await earlyAppended.opened;
    try {
      const b = await log.appendToStream('order-b', [event('B')], { expectedRevision: 'no_stream' });
      assert.equal(b.outcome, 'appended');
      // B is committed, but a reader must not see it yet: that would move its checkpoint past A.
      assert.deepEqual(await log.readAll({ limit: 10 }), []);
      assert.equal(delivered.length, 0);
    } finally {
      release.open();
      await transactionA;
    }
    const all = await log.readAll({ limit: 10 });
    assert.deepEqual(all.map((e) => e.type), ['A', 'B']);
    assert.ok(all[0]!.globalPosition < all[1]!.globalPosition);
    try {
      await waitFor('both events delivered', () => delivered.length === 2);
      assert.deepEqual(delivered.map((e) => e.type), ['A', 'B']);
    } finally {
      await subscription.stop();
    }
  });

  it('orders by commit: a later transaction that committed first still follows the older one', async () => {
    const log = createPgEventLog(database.db);
    const start = await log.headPosition();
    const firstAppended = gate();
    const release = gate();
    // C takes its transaction id first (at its first write) and holds it; D appends and commits.
    const transactionC = database.db.transaction(async (tx) => {
      await appendToStream(tx, { streamId: 'order-c', events: [event('C')], expectedRevision: 'no_stream' });
      firstAppended.open();
      await release.opened;
    });
    await firstAppended.opened;
    const everything = async () => (await log.readAll({ limit: 100 })).filter((e) => e.globalPosition > start);
    try {
      await log.appendToStream('order-d', [event('D')], { expectedRevision: 'no_stream' });
      assert.deepEqual((await everything()).map((e) => e.type), []);
    } finally {
      release.open();
      await transactionC;
    }
    assert.deepEqual((await everything()).map((e) => e.type), ['C', 'D']);
  });
});

describe('event log order across transaction ids of different lengths (PostgreSQL)', () => {
  let database: TestDatabase;
  before(async () => (database = await createTestDatabase()));
  after(() => database.drop());

  it('pages numerically by transaction id: 9 before 10, nothing skipped', async () => {
    // Rows as two old transactions wrote them. Ids 9 and 10 are below the xmin of any cluster that
    // has run a few transactions (a fresh one is past 700 after initdb), whatever its age.
    await database.db.query(
      `INSERT INTO te_events (transaction_id, stream_id, stream_revision, event_id, event_type, schema_version, data, metadata)
       SELECT t.xid::xid8, 'digits-' || t.n, 0, gen_random_uuid(), 'TransferStarted', 1, '{}', '{}'
         FROM (VALUES ('9', 1), ('9', 2), ('10', 3), ('10', 4)) AS t(xid, n)`,
    );
    const log = createPgEventLog(database.db);
    const first = await log.readAll({ limit: 2 });
    const second = await log.readAll({ after: first[1]!.checkpoint, limit: 2 });
    const third = await log.readAll({ after: second[1]?.checkpoint ?? first[1]!.checkpoint, limit: 2 });
    assert.deepEqual([...first, ...second].map((e) => e.streamId), ['digits-1', 'digits-2', 'digits-3', 'digits-4']);
    assert.deepEqual(third, []);
  });
});
