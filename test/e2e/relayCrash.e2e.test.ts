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
});
