import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { IncomingMessage, RunningConsumer } from '../../src/bus/messageBus.ts';
import { createKafkaBus } from '../../src/infra/kafka/kafkaBus.ts';
import { createPgEventLog } from '../../src/infra/postgres/eventLog/pgEventLog.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { startCliProcess, type ServerProcess } from '../helpers/serverProcess.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.ts';
import { testKafkaBrokers } from '../helpers/testKafka.ts';
import { transferStarted } from '../helpers/newEvent.ts';
import { waitFor } from '../helpers/waitFor.ts';

const started = (transferId: string, requestId: string) =>
  transferStarted(transferId, { requestId, traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' });

describe('relay: kill -9 mid-stream (PostgreSQL, Kafka)', () => {
  let database: TestDatabase;
  let relay: ServerProcess | undefined;
  const bus = createKafkaBus({ logger: silentLogger() }, { brokers: testKafkaBrokers, clientId: `relay-crash-${randomUUID()}` });
  let consumer: RunningConsumer | undefined;
  before(async () => (database = await createTestDatabase()));
  after(async () => {
    await relay?.kill();
    await consumer?.stop();
    await bus.close();
    await database.drop();
  });

  it('delivers every event after a restart, with duplicates only, in order per stream', async () => {
    const env = { DATABASE_URL: database.url, KAFKA_BROKERS: testKafkaBrokers.join(','), TORRENTEDGE_LOG_LEVEL: 'info' };
    const startRelay = () => startCliProcess('relay', env, /"msg":"relay running"/);
    relay = await startRelay();

    const run = randomUUID().slice(0, 8);
    const streams = Array.from({ length: 8 }, (_, i) => `relaytest-${run}-${i}`);
    const received: IncomingMessage[] = [];
    consumer = await bus.consume({ group: `relay-crash-${run}`, topics: ['torrent.events'], fromBeginning: true }, async (m) => {
      if (m.key.startsWith(`relaytest-${run}-`)) received.push(m);
    });

    const log = createPgEventLog(database.db);
    const total = 1200;
    const appendAll = (async () => {
      for (let i = 0; i < total; i++) {
        const stream = streams[i % streams.length]!;
        await log.appendToStream(stream, [started(stream, `req-${i}`)], { expectedRevision: 'any' });
      }
    })();
    await waitFor('the relay to be mid-stream', () => received.length >= 200, 60_000);
    await relay.kill();
    await appendAll;
    relay = await startRelay();

    const unique = () => new Map(received.map((m) => [m.headers['event-id']!, m]));
    await waitFor('every event after the restart', () => unique().size === total, 90_000);
    const deduped = [...unique().values()];
    const firstSeen = new Map<string, IncomingMessage>();
    for (const m of received) if (!firstSeen.has(m.headers['event-id']!)) firstSeen.set(m.headers['event-id']!, m);
    for (const stream of streams) {
      const revisions = [...firstSeen.values()].filter((m) => m.key === stream).map((m) => (JSON.parse(m.value) as { streamRevision: number }).streamRevision);
      assert.deepEqual(revisions, revisions.map((_, i) => i), `stream ${stream} in order, none missing`);
    }
    assert.ok(deduped.every((m) => m.headers.traceparent !== undefined && m.headers['x-request-id']?.startsWith('req-')));
    // How many came twice is up to where the kill landed; they differ only in offset.
    assert.ok(received.length >= total);
  });

  it('delivers every event after a kill during catch-up (full batches, reads ahead, checkpoint writes in flight)', async () => {
    await relay?.kill(); // the previous test's relay would work through this backlog too
    const run = randomUUID().slice(0, 8);
    const streams = Array.from({ length: 8 }, (_, i) => `relaycatchup-${run}-${i}`);
    // A backlog the relay works through in full batches of 500, so the kill lands in the pipeline.
    // It is large enough that a kill comes well before the end even at 30,000 events/s, the relay's
    // pace on a quiet machine (the poll below notices a mark within about 10 ms).
    const log = createPgEventLog(database.db);
    const total = 36_000;
    const base = await log.headPosition();
    // One append a stream: the fewer transactions in flight, the less this holds back the log
    // readers of the test files running beside it (the read gate is the server's oldest transaction).
    const perStream = total / streams.length;
    for (const [s, stream] of streams.entries()) {
      await log.appendToStream(stream, Array.from({ length: perStream }, (_, j) => started(stream, `req-${s * perStream + j}`)), { expectedRevision: 'no_stream' });
    }
    const received: IncomingMessage[] = [];
    const backlog = await bus.consume({ group: `relay-catchup-${run}`, topics: ['torrent.events'], fromBeginning: true }, async (m) => {
      if (m.key.startsWith(`relaycatchup-${run}-`)) received.push(m);
    });
    try {
      const env = { DATABASE_URL: database.url, KAFKA_BROKERS: testKafkaBrokers.join(','), TORRENTEDGE_LOG_LEVEL: 'info' };
      const startRelay = () => startCliProcess('relay', env, /"msg":"relay running"/);
      // The position in the relay's stored checkpoint (PostgreSQL's: transaction id, position).
      const relayed = async () => {
        const { rows } = await database.db.query<{ checkpoint: string }>("SELECT checkpoint FROM te_projection_checkpoints WHERE projection = 'relay:bus'");
        return Number(rows[0]?.checkpoint.split(':')[1] ?? 0);
      };
      // Kills just after the checkpoint passed a mark: the next batch is in flight then, its read
      // done ahead, and the kill lands wherever the relay is in its cycle. A kill that comes late
      // (the relay through the backlog) proves nothing, so most must land before the end.
      let midBacklog = 0;
      for (const mark of [3000, 9000, 15_000, 21_000, 27_000]) {
        relay = await startRelay();
        await waitFor(`the relay past ${mark} of the backlog`, async () => (await relayed()) >= base + mark, 60_000);
        await relay.kill();
        if ((await relayed()) < base + total) midBacklog++;
      }
      assert.ok(midBacklog >= 3, `${midBacklog} of 5 kills landed before the relay was through the backlog`);
      relay = await startRelay();

      const firstSeen = new Map<string, IncomingMessage>();
      await waitFor('every event after the restart', () => {
        for (const m of received) if (!firstSeen.has(m.headers['event-id']!)) firstSeen.set(m.headers['event-id']!, m);
        return firstSeen.size === total;
      }, 120_000);
      for (const stream of streams) {
        const revisions = [...firstSeen.values()].filter((m) => m.key === stream).map((m) => (JSON.parse(m.value) as { streamRevision: number }).streamRevision);
        assert.deepEqual(revisions, revisions.map((_, i) => i), `stream ${stream} in order, none missing`);
      }
    } finally {
      await backlog.stop();
    }
  });
});
