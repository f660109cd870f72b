import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { PoisonMessageError, startEventConsumer } from '../../src/bus/eventConsumer.ts';
import { createInProcessBus } from '../../src/bus/inProcessBus.ts';
import type { IncomingMessage, MessageBus, OutgoingMessage } from '../../src/bus/messageBus.ts';
import { createKafkaBus } from '../../src/infra/kafka/kafkaBus.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { testKafkaBrokers } from '../helpers/testKafka.ts';
import { waitFor } from '../helpers/waitFor.ts';

const message = (eventId: string | undefined, key = 'node-1'): OutgoingMessage => ({
  key,
  value: JSON.stringify({ eventId }),
  headers: eventId === undefined ? {} : { 'event-id': eventId },
});

const adapters: Array<[string, () => MessageBus, number]> = [
  ['in-process', () => createInProcessBus(), 5_000],
  ['Kafka', () => createKafkaBus({ logger: silentLogger() }, { brokers: testKafkaBrokers, clientId: `consumer-${randomUUID()}` }), 30_000],
];

for (const [adapter, createBus, timeoutMs] of adapters) {
  describe(`event consumer on the ${adapter} bus`, () => {
    let bus: MessageBus;
    before(() => void (bus = createBus()));
    after(() => bus.close());

    async function setUp() {
      const topic = `consumer-${randomUUID()}`;
      const deadLetterTopic = `${topic}.dead`;
      await bus.ensureTopics([{ name: topic, partitions: 1 }, { name: deadLetterTopic, partitions: 1 }]);
      const dead: IncomingMessage[] = [];
      const deadReader = await bus.consume({ group: `dlq-${randomUUID()}`, topics: [deadLetterTopic], fromBeginning: true }, async (m) => void dead.push(m));
      return { topic, deadLetterTopic, dead, deadReader, group: `group-${randomUUID()}` };
    }

    it('handles each event once: duplicates by event id are skipped', async () => {
      const { topic, deadLetterTopic, deadReader, group } = await setUp();
      const seen: string[] = [];
      const outcomes: string[] = [];
      const consumer = await startEventConsumer({ bus, logger: silentLogger(), onOutcome: (o) => void outcomes.push(o) }, { group, topics: [topic], deadLetterTopic }, async (m) => {
        seen.push(m.headers['event-id']!);
      });
      await bus.publish(topic, [message('a'), message('b'), message('a'), message('c'), message('b')]);
      await waitFor('five deliveries', () => outcomes.length === 5, timeoutMs);
      assert.deepEqual(seen, ['a', 'b', 'c']);
      assert.equal(outcomes.filter((o) => o === 'duplicate').length, 2);
      await consumer.stop();
      await deadReader.stop();
    });

    it('retries a failing handler with backoff, then dead-letters it with the error, without stalling the partition', async () => {
      const { topic, deadLetterTopic, dead, deadReader, group } = await setUp();
      const attempts = new Map<string, number>();
      const consumer = await startEventConsumer(
        { bus, logger: silentLogger() },
        { group, topics: [topic], deadLetterTopic, maxAttempts: 3, retryDelayMs: 5 },
        async (m) => {
          const id = m.headers['event-id']!;
          attempts.set(id, (attempts.get(id) ?? 0) + 1);
          if (id === 'flaky' && attempts.get(id)! < 2) throw new Error('transient');
          if (id === 'broken') throw new Error('the worker cannot parse this directive');
          if (id === 'poison') throw new PoisonMessageError('unknown schema version 99');
        },
      );
      await bus.publish(topic, [message('flaky'), message('broken'), message('poison'), message('after'), message(undefined)]);
      await waitFor('the message after the bad ones, and three dead letters', () => attempts.has('after') && dead.length === 3, timeoutMs);
      assert.equal(attempts.get('flaky'), 2, 'retried once, then succeeded');
      assert.equal(attempts.get('broken'), 3, 'maxAttempts');
      assert.equal(attempts.get('poison'), 1, 'poison is not retried');
      const broken = dead.find((m) => m.headers['event-id'] === 'broken')!;
      assert.equal(broken.headers['dead-letter-error'], 'Error: the worker cannot parse this directive');
      assert.equal(broken.headers['dead-letter-attempts'], '3');
      assert.equal(broken.headers['dead-letter-group'], group);
      assert.match(broken.headers['dead-letter-source']!, new RegExp(`^${topic}/0/\\d+$`));
      assert.ok(dead.some((m) => m.headers['dead-letter-error']?.startsWith('PoisonMessageError: no event-id header')));
      await consumer.stop();
      await deadReader.stop();
    });

    it('commits what was handled when it stops gracefully', async () => {
      const { topic, deadLetterTopic, deadReader, group } = await setUp();
      let count = 0;
      const consumer = await startEventConsumer({ bus, logger: silentLogger() }, { group, topics: [topic], deadLetterTopic }, async () => void count++);
      await bus.publish(topic, Array.from({ length: 20 }, (_, i) => message(`m-${i}`)));
      await waitFor('all twenty', () => count === 20, timeoutMs);
      await consumer.stop();
      const lag = await bus.lag(group, topic);
      assert.equal(lag.reduce((sum, p) => sum + p.lag, 0), 0);
      await deadReader.stop();
    });
  });
}
