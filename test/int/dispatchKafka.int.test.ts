import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { consumerOutcomeMetrics, recordConsumerLag } from '../../src/bus/consumerMetrics.ts';
import { startEventConsumer } from '../../src/bus/eventConsumer.ts';
import type { IncomingMessage } from '../../src/bus/messageBus.ts';
import { createKafkaBus } from '../../src/infra/kafka/kafkaBus.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { bearer, startTestControlPlane, tokens, type TestControlPlane } from '../helpers/testControlPlane.ts';
import { testKafkaBrokers } from '../helpers/testKafka.ts';
import { waitFor } from '../helpers/waitFor.ts';

describe('dispatch through the real broker (PostgreSQL, Kafka)', () => {
  const bus = createKafkaBus({ logger: silentLogger() }, { brokers: testKafkaBrokers, clientId: `dispatch-${randomUUID()}` });
  let t: TestControlPlane;
  before(async () => (t = await startTestControlPlane('postgres', { relay: true, bus })));
  after(async () => {
    await t.close();
    await bus.close();
  });

  it('delivers the directive to its node with X-Request-ID and traceparent intact, and counts it', async () => {
    const nodeId = `gpu-${randomUUID().slice(0, 8)}`;
    const group = `worker-${nodeId}`;
    const metrics = createMetrics();
    const received: IncomingMessage[] = [];
    const consumer = await startEventConsumer(
      { bus, logger: silentLogger(), onOutcome: consumerOutcomeMetrics(metrics, group) },
      { group, topics: ['torrent.jobs.dispatch'], deadLetterTopic: 'torrent.deadletter', fromBeginning: true },
      async (message) => {
        if (message.key === nodeId) received.push(message);
      },
    );
    try {
      const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      const created = await t.plane.app.inject({
        method: 'POST',
        url: '/api/torrent/create',
        headers: { ...bearer(tokens.writer), 'x-request-id': `rollout-${nodeId}`, traceparent },
        payload: { source: { url: 'https://origin.example/model.bin' }, autoStart: true, targets: { kind: 'nodes', nodeIds: [nodeId] } },
      });
      assert.equal(created.statusCode, 201);
      const transferId = created.json<{ id: string }>().id;
      await waitFor('the directive at its node', () => received.length === 1, 60_000);
      const [directive] = received;
      assert.equal(directive!.headers['event-type'], 'JOB_ASSIGNED');
      assert.equal(directive!.headers['x-request-id'], `assign:${transferId}:${nodeId}`, 'the assignment command’s request id');
      assert.match(directive!.headers.traceparent!, /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/, 'the caller’s trace');
      const body = JSON.parse(directive!.value) as { directive: string; transferId: string; nodeId: string; role: string };
      assert.deepEqual([body.directive, body.transferId, body.nodeId, body.role], ['JOB_ASSIGNED', transferId, nodeId, 'seed']);

      const transferEvents = (await t.plane.eventLog.readStream(`transfer-${transferId}`)).events;
      assert.equal(transferEvents[0]!.metadata.requestId, `rollout-${nodeId}`);

      await consumer.stop();
      await recordConsumerLag(bus, metrics, group, 'torrent.jobs.dispatch');
      const text = await metrics.registry.metrics();
      assert.match(text, new RegExp(`torrentedge_consumed_messages_total\\{group="${group}",outcome="handled"\\} [1-9]`));
      assert.match(text, /torrentedge_dispatch_latency_seconds_count [1-9]/);
      assert.match(text, new RegExp(`torrentedge_consumer_lag_messages\\{group="${group}",topic="torrent.jobs.dispatch",partition="\\d+"\\} 0`));
    } finally {
      await consumer.stop();
    }
  });
});
