import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { RecordedEvent } from '../../src/events/eventLog.ts';
import { createPgEventLog } from '../../src/infra/postgres/eventLog/pgEventLog.ts';
import { createPgDatabase } from '../../src/infra/postgres/pgDatabase.ts';
import type { SqlDatabase } from '../../src/infra/postgres/sqlDatabase.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.ts';
import { newEvent } from '../helpers/newEvent.ts';
import { waitFor } from '../helpers/waitFor.ts';

const event = (type: string) => newEvent(type);

const terminate = (db: SqlDatabase, where: string) =>
  db.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND ${where}`);

describe('PostgreSQL faults', () => {
  let database: TestDatabase;
  let other: SqlDatabase; // a second process's pool on the same database
  before(async () => {
    database = await createTestDatabase();
    other = createPgDatabase({ logger: silentLogger() }, { connectionString: database.url, applicationName: 'te-other-process' });
  });
  after(async () => {
    await other.close();
    await database.drop();
  });

  it('fails a transaction whose connection is killed, keeps the process up, and serves the next query', async () => {
    // The rejection is awaited from the start: it may arrive before the terminate call returns.
    const killed = assert.rejects(other.transaction((tx) => tx.query('SELECT pg_sleep(10)')));
    const pid = await waitFor('the sleeping backend', async () => {
      const { rows } = await database.db.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = 'SELECT pg_sleep(10)' AND state = 'active'",
      );
      return rows[0]?.pid;
    });
    await database.db.query('SELECT pg_terminate_backend($1)', [pid]);
    await killed;
    const { rows } = await other.query<{ ok: number }>('SELECT 1 AS ok');
    assert.deepEqual(rows, [{ ok: 1 }]);
  });

  it('wakes a subscriber in another process by NOTIFY, not by its safety poll', async () => {
    const writer = createPgEventLog(database.db);
    const reader = createPgEventLog(other, { safetyPollMs: 60_000 });
    const seen: RecordedEvent[] = [];
    const subscription = reader.subscribe({ after: reader.start }, { onEvents: async (events) => void seen.push(...events), onError: assert.fail });
    try {
      await waitFor('listening', async () => (await database.db.query("SELECT 1 FROM pg_stat_activity WHERE query = 'LISTEN \"te_events\"'")).rows.length > 0);
      const stream = `notify-${randomUUID()}`;
      const appendedAt = performance.now();
      await writer.appendToStream(stream, [event('Cross')], { expectedRevision: 'no_stream' });
      await waitFor('cross-process delivery', () => seen.some((e) => e.streamId === stream), 5000);
      assert.ok(performance.now() - appendedAt < 1000, `delivered after ${performance.now() - appendedAt} ms`);

      // The listening connection dies; it reconnects and the subscriber goes on receiving.
      await terminate(database.db, "query = 'LISTEN \"te_events\"'");
      await waitFor('listening again', async () => (await database.db.query("SELECT 1 FROM pg_stat_activity WHERE query = 'LISTEN \"te_events\"'")).rows.length > 0);
      const later = `notify-${randomUUID()}`;
      await writer.appendToStream(later, [event('AfterReconnect')], { expectedRevision: 'no_stream' });
      await waitFor('delivery after reconnect', () => seen.some((e) => e.streamId === later), 5000);
    } finally {
      await subscription.stop();
    }
  });
});
