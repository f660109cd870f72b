import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { devBrokerOptions, startDevBroker, stopDevBroker, type DevBrokerOptions } from '../../scripts/kafka/devBroker.ts';
import type { IncomingMessage, RunningConsumer } from '../../src/bus/messageBus.ts';
import { createKafkaBus } from '../../src/infra/kafka/kafkaBus.ts';
import { createPgEventLog } from '../../src/infra/postgres/eventLog/pgEventLog.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { createRelay } from '../../src/relay/relay.ts';
import { relayTopics } from '../../src/relay/topics.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.ts';
import { transferStarted } from '../helpers/newEvent.ts';
import { waitFor } from '../helpers/waitFor.ts';

const event = (transferId: string) => transferStarted(transferId);

describe('relay across a Kafka broker restart (a broker of its own)', () => {
  let database: TestDatabase;
  let broker: DevBrokerOptions;
  before(async () => {
    database = await createTestDatabase();
    // Its own broker on other ports, so restarting it disturbs no other test.
    broker = { ...devBrokerOptions(), port: 19_092, controllerPort: 19_093, dataDir: await mkdtemp(join(tmpdir(), 'te-broker-restart-')) };
    await startDevBroker(broker);
  });
  after(async () => {
    await stopDevBroker(broker.dataDir);
    await rm(broker.dataDir, { recursive: true, force: true });
    await database.drop();
  });

  it('loses nothing while the broker is down and delivers the rest once it is back', async () => {
    const brokers = [`${broker.host}:${broker.port}`];
    const relayBus = createKafkaBus({ logger: silentLogger() }, { brokers, clientId: 'restart-relay' });
    const readerBus = createKafkaBus({ logger: silentLogger() }, { brokers, clientId: 'restart-reader' });
    const log = createPgEventLog(database.db);
    const relay = createRelay({ db: database.db, eventLog: log, bus: relayBus, logger: silentLogger() }, { topics: relayTopics({ events: 2, dispatch: 2 }) });
    await relay.start();
    const received = new Map<string, IncomingMessage>();
    const reader: RunningConsumer = await readerBus.consume({ group: 'restart-reader', topics: ['torrent.events'], fromBeginning: true }, async (m) => {
      received.set(m.headers['event-id']!, m);
    });
    try {
      const append = async (count: number) => {
        for (let i = 0; i < count; i++) await log.appendToStream(`restart-${i % 4}`, [event(randomUUID())], { expectedRevision: 'any' });
      };
      await append(100);
      await waitFor('the first hundred', () => received.size === 100, 60_000);

      await stopDevBroker(broker.dataDir);
      await append(100); // the relay cannot publish these yet; its checkpoint must not move
      await startDevBroker(broker);
      await waitFor('all two hundred', () => received.size === 200, 120_000);
      const { rows } = await database.db.query<{ n: number }>('SELECT count(*)::int AS n FROM te_events');
      assert.equal(rows[0]!.n, 200);
    } finally {
      await reader.stop();
      await relay.stop();
      await relayBus.close();
      await readerBus.close();
    }
  });
});
