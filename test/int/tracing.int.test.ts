import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { startEventConsumer } from '../../src/bus/eventConsumer.ts';
import { createInProcessBus } from '../../src/bus/inProcessBus.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { startTracing, type Tracing } from '../../src/observability/tracing.ts';
import { bearer, startTestControlPlane, tokens, type TestControlPlane } from '../helpers/testControlPlane.ts';
import { waitFor } from '../helpers/waitFor.ts';

describe('tracing: one rollout is one trace', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let t: TestControlPlane;
  const bus = createInProcessBus();
  before(async () => {
    tracing = startTracing({ serviceName: 'test', exporter });
    t = await startTestControlPlane('pglite', { relay: true, bus });
    const node = await t.plane.app.inject({ method: 'PUT', url: '/api/nodes/gpu-1', headers: bearer(tokens.writer), payload: { labels: { zone: 'a' }, casVolume: '/cas', capacityBytes: 1 } });
    assert.equal(node.statusCode, 200);
    await waitFor('the node projected', async () => (await t.plane.db.query('SELECT 1 FROM te_nodes')).rows.length === 1);
  });
  after(async () => {
    await t.close();
    await tracing.shutdown();
  });

  it('links the REST request, the command, the append, the assignment, the relay publish and the consumed directive', async () => {
    const caller = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const workerSpans: string[] = [];
    const consumer = await startEventConsumer(
      { bus, logger: silentLogger() },
      { group: 'worker-gpu-1', topics: ['torrent.jobs.dispatch'], deadLetterTopic: 'torrent.deadletter' },
      async () => {
        // What a worker does under the consumed directive continues the same trace.
        const span = trace.getTracer('worker').startSpan('run job', {}, context.active());
        workerSpans.push(span.spanContext().spanId);
        span.end();
      },
    );
    try {
      const created = await t.plane.app.inject({
        method: 'POST',
        url: '/api/torrent/create',
        headers: { ...bearer(tokens.writer), traceparent: caller },
        payload: { source: { url: 'https://origin.example/model.bin' }, autoStart: true, targets: { kind: 'nodes', nodeIds: ['gpu-1'] } },
      });
      assert.equal(created.statusCode, 201);
      await waitFor('the worker span', () => workerSpans.length === 1);

      const spans = exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === '0af7651916cd43dd8448eb211c80319c');
      const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
      const chain: string[] = [];
      let current: ReadableSpan | undefined = spans.find((span) => span.name === 'run job');
      while (current !== undefined) {
        chain.push(current.name);
        const parent = current.parentSpanContext?.spanId;
        if (parent === 'b7ad6b7169203331') chain.push('(caller)');
        current = parent === undefined ? undefined : byId.get(parent);
      }
      assert.deepEqual(chain.reverse(), [
        '(caller)',
        'POST /api/torrent/create',
        'command RequestTransfer',
        `append transfer-${created.json<{ id: string }>().id}`,
        'assign jobs',
        'command AssignJob',
        `append job-${created.json<{ id: string }>().id}.gpu-1`,
        'publish JOB_ASSIGNED',
        'consume torrent.jobs.dispatch',
        'run job',
      ]);
      const stored = await t.plane.eventLog.readStream(`transfer-${created.json<{ id: string }>().id}`);
      assert.match(stored.events[0]!.metadata.traceparent!, /^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    } finally {
      await consumer.stop();
    }
  });
});
