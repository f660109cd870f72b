import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createPgEventLog } from '../../src/infra/postgres/eventLog/pgEventLog.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import type { Projection } from '../../src/projections/projection.ts';
import { createProjector } from '../../src/projections/projector.ts';
import { createTestPglite, type TestDatabase } from '../helpers/testDatabase.ts';
import { transferStarted } from '../helpers/newEvent.ts';
import { waitFor } from '../helpers/waitFor.ts';

const started = (transferId: string) => transferStarted(transferId);

describe('projector faults (embedded store)', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestPglite();
    await database.db.query('CREATE TABLE seen_events (transfer_id text PRIMARY KEY)');
  });
  after(() => database.drop());

  it('rolls back a failing batch with its checkpoint, retries, and then applies every event once', async () => {
    let failing = true;
    let failures = 0;
    // Writes a row per event, then fails the batch while `failing`: the rows must not survive.
    const flaky: Projection = {
      name: 'flaky',
      tables: ['seen_events'],
      async applyBatch(tx, events) {
        for (const event of events) await tx.query('INSERT INTO seen_events VALUES ($1)', [(event.data as { transferId: string }).transferId]);
        if (failing) {
          failures++;
          throw new Error('disk on fire');
        }
      },
    };
    const eventLog = createPgEventLog(database.db, { safetyPollMs: 60_000 });
    const projector = createProjector({ db: database.db, eventLog, logger: silentLogger() }, { projections: [flaky] });
    await projector.start();
    try {
      const ids = Array.from({ length: 3 }, () => randomUUID());
      for (const id of ids) await eventLog.appendToStream(`transfer-${id}`, [started(id)], { expectedRevision: 'any' });
      await waitFor('a few failed attempts', () => failures >= 3);
      const during = await database.db.query<{ n: number }>('SELECT count(*)::int AS n FROM seen_events');
      assert.equal(during.rows[0]!.n, 0, 'a failed batch leaves no rows');
      const checkpoint = await database.db.query<{ checkpoint: string }>("SELECT checkpoint FROM te_projection_checkpoints WHERE projection = 'flaky'");
      assert.equal(checkpoint.rows[0]!.checkpoint, eventLog.start, 'nor a moved checkpoint');

      failing = false;
      await projector.waitForPosition(await eventLog.headPosition());
      const { rows } = await database.db.query<{ transfer_id: string }>('SELECT transfer_id FROM seen_events ORDER BY transfer_id');
      assert.deepEqual(rows.map((row) => row.transfer_id), [...ids].sort(), 'each event applied exactly once');
    } finally {
      await projector.stop();
    }
  });
});
