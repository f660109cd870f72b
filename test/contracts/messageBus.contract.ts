import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { IncomingMessage, MessageBus, RunningConsumer } from '../../src/bus/messageBus.ts';
import { waitFor } from '../helpers/waitFor.ts';

const names = () => ({ topic: `contract-${randomUUID()}`, group: `group-${randomUUID()}` });

function messages(count: number, keys: readonly string[]) {
  return Array.from({ length: count }, (_, i) => ({
    key: keys[i % keys.length]!,
    value: JSON.stringify({ i }),
    headers: { 'event-id': `e-${i}`, traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
  }));
}

const indexOf = (message: IncomingMessage) => (JSON.parse(message.value) as { i: number }).i;

/** Per key, the first deliveries of each message are in publish order. */
function assertOrderPerKey(received: readonly IncomingMessage[]): void {
  const seen = new Set<string>();
  const byKey = new Map<string, number[]>();
  for (const message of received) {
    const id = message.headers['event-id']!;
    if (seen.has(id)) continue;
    seen.add(id);
    byKey.set(message.key, [...(byKey.get(message.key) ?? []), indexOf(message)]);
  }
  for (const [key, order] of byKey) assert.deepEqual(order, [...order].sort((a, b) => a - b), `order of key ${key}`);
}

/** What every bus adapter must do; `create` returns a bus on a fresh namespace or broker. */
export function messageBusContract(adapter: string, create: () => Promise<MessageBus>, options: { timeoutMs: number }): void {
  describe(`message bus contract: ${adapter}`, () => {
    let bus: MessageBus;
    const running: RunningConsumer[] = [];
    before(async () => (bus = await create()));
    after(async () => {
      await Promise.all(running.map((consumer) => consumer.stop()));
      await bus.close();
    });
    const consume = async (group: string, topic: string, handle: (m: IncomingMessage) => Promise<void>) => {
      const consumer = await bus.consume({ group, topics: [topic], fromBeginning: true }, handle);
      running.push(consumer);
      return consumer;
    };

    it('delivers every message with its key and headers, in order per key', async () => {
      const { topic, group } = names();
      await bus.ensureTopics([{ name: topic, partitions: 3 }]);
      await bus.ensureTopics([{ name: topic, partitions: 3 }]); // idempotent
      await bus.publish(topic, messages(30, ['node-a', 'node-b', 'node-c', 'node-d']));
      const received: IncomingMessage[] = [];
      await consume(group, topic, async (message) => void received.push(message));
      await waitFor('all 30', () => new Set(received.map((m) => m.headers['event-id'])).size === 30, options.timeoutMs);
      const first = received.find((m) => m.headers['event-id'] === 'e-0')!;
      assert.equal(first.key, 'node-a');
      assert.equal(first.topic, topic);
      assert.equal(first.headers.traceparent, '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
      assertOrderPerKey(received);
      const sameKey = received.filter((m) => m.key === 'node-b');
      assert.equal(new Set(sameKey.map((m) => m.partition)).size, 1, 'one key, one partition');
    });

    it('gives every group all messages, and shares a group between its consumers', async () => {
      const { topic } = names();
      await bus.ensureTopics([{ name: topic, partitions: 4 }]);
      const shared = `group-${randomUUID()}`;
      const other = `group-${randomUUID()}`;
      const inShared: IncomingMessage[] = [];
      const inOther: IncomingMessage[] = [];
      await consume(shared, topic, async (m) => void inShared.push(m));
      await consume(shared, topic, async (m) => void inShared.push(m));
      await consume(other, topic, async (m) => void inOther.push(m));
      await bus.publish(topic, messages(40, ['a', 'b', 'c', 'd', 'e', 'f']));
      const ids = (list: IncomingMessage[]) => new Set(list.map((m) => m.headers['event-id']));
      await waitFor('both groups have all', () => ids(inShared).size === 40 && ids(inOther).size === 40, options.timeoutMs);
      assertOrderPerKey(inShared);
      assertOrderPerKey(inOther);
    });

    it('redelivers a message whose handler failed, and holds back the ones after it', async () => {
      const { topic, group } = names();
      await bus.ensureTopics([{ name: topic, partitions: 1 }]);
      await bus.publish(topic, messages(3, ['k']));
      const attempts: string[] = [];
      let failuresLeft = 2;
      await consume(group, topic, async (message) => {
        attempts.push(message.headers['event-id']!);
        if (message.headers['event-id'] === 'e-1' && failuresLeft-- > 0) throw new Error('handler failed');
      });
      await waitFor('e-2 handled', () => attempts.includes('e-2'), options.timeoutMs);
      const firstDone = attempts.lastIndexOf('e-1');
      assert.ok(attempts.filter((id) => id === 'e-1').length >= 3, `e-1 retried: ${attempts.join(',')}`);
      assert.ok(attempts.indexOf('e-2') > firstDone, 'e-2 only after e-1 succeeded');
    });

    it('commits what was handled on a graceful stop: the group resumes after it', async () => {
      const { topic, group } = names();
      await bus.ensureTopics([{ name: topic, partitions: 2 }]);
      await bus.publish(topic, messages(10, ['x', 'y']));
      const firstRun: IncomingMessage[] = [];
      const consumer = await bus.consume({ group, topics: [topic], fromBeginning: true }, async (m) => void firstRun.push(m));
      await waitFor('first 10', () => firstRun.length >= 10, options.timeoutMs);
      await consumer.stop();
      assert.deepEqual((await bus.lag(group, topic)).reduce((sum, p) => sum + p.lag, 0), 0, 'no lag after a graceful stop');

      const later = messages(14, ['x', 'y']).slice(10);
      await bus.publish(topic, later);
      const lag = await bus.lag(group, topic);
      assert.equal(lag.reduce((sum, p) => sum + p.lag, 0), 4);
      const secondRun: IncomingMessage[] = [];
      await consume(group, topic, async (m) => void secondRun.push(m));
      await waitFor('the 4 new ones', () => secondRun.length >= 4, options.timeoutMs);
      assert.deepEqual(secondRun.map((m) => m.headers['event-id']).sort(), ['e-10', 'e-11', 'e-12', 'e-13']);
    });
  });
}
