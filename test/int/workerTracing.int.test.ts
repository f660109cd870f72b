import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { loadConfig } from '../../src/config.ts';
import { generateArtifact } from '../../src/demo/generateArtifact.ts';
import { startLocalOrigin } from '../../src/demo/localOrigin.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { startTracing, type Tracing } from '../../src/observability/tracing.ts';
import { createWorkerDaemon, type WorkerDaemon } from '../../src/workers/workerDaemon.ts';
import { bearer, startTestControlPlane, tokens, type TestControlPlane } from '../helpers/testControlPlane.ts';
import { waitFor } from '../helpers/waitFor.ts';

const nodeToken = 'node-token-gpu-t-0123456789';
const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('tracing into the worker: the job, its api calls and its materialization join the rollout trace', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let t: TestControlPlane;
  let worker: WorkerDaemon;
  let work: string;
  before(async () => {
    tracing = startTracing({ serviceName: 'test', exporter });
    work = await mkdtemp(join(tmpdir(), 'te-worker-trace-'));
    t = await startTestControlPlane('pglite', { extraTokens: [{ subject: 'node:gpu-t', scopes: ['node'], token: nodeToken }] });
    const url = await t.plane.listen();
    worker = createWorkerDaemon(loadConfig({ TORRENTEDGE_NODE_TOKEN: nodeToken, TORRENTEDGE_NODE_ID: 'gpu-t' }, { 'data-dir': join(work, 'gpu-t'), 'api-url': url }), { logger: silentLogger() }, { pollMs: 100 });
    await worker.start();
    await waitFor('the node projected', async () => (await t.plane.db.query("SELECT 1 FROM te_nodes WHERE node_id = 'gpu-t'")).rows.length === 1);
  });
  after(async () => {
    await worker.stop();
    await t.close();
    await tracing.shutdown();
    await rm(work, { recursive: true, force: true });
  });

  it('chains the POST, the assignment, the job run and the materialization, and parents the job reports on the job', async () => {
    const artifact = join(work, 'model.bin');
    await generateArtifact(artifact, 2 * 1024 * 1024 + 5);
    const origin = await startLocalOrigin(artifact);
    try {
      const created = await t.plane.app.inject({
        method: 'POST',
        url: '/api/torrent/create',
        headers: { ...bearer(tokens.writer), traceparent: `00-${traceId}-b7ad6b7169203331-01` },
        payload: { source: { url: origin.url }, autoStart: true, targets: { kind: 'nodes', nodeIds: ['gpu-t'] } },
      });
      const id = created.json<{ id: string }>().id;
      const spansOfTrace = () => exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
      await waitFor('the materialize span', () => spansOfTrace().some((span) => span.name === 'materialize'), 30_000);
      // The job's span ends once the transfer does (the node seeds until then).
      await waitFor('the run job span', () => spansOfTrace().some((span) => span.name === 'run job'), 30_000);

      const spans = spansOfTrace();
      const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
      const chainOf = (start: ReadableSpan | undefined): string[] => {
        const names: string[] = [];
        for (let current = start; current !== undefined; current = byId.get(current.parentSpanContext?.spanId ?? '')) names.push(current.name);
        return names.reverse();
      };
      assert.deepEqual(chainOf(spans.find((span) => span.name === 'materialize')), [
        'POST /api/torrent/create',
        'command RequestTransfer',
        `append transfer-${id}`,
        'assign jobs',
        'command AssignJob',
        `append job-${id}.gpu-t`,
        'run job',
        'materialize',
      ]);
      const complete = spans.find((span) => span.name.startsWith('POST /api/jobs/') && span.name.endsWith('/complete'));
      assert.ok(complete !== undefined, `a span for the completion report among ${spans.map((span) => span.name).join(', ')}`);
      assert.equal(byId.get(complete.parentSpanContext?.spanId ?? '')?.name, 'run job');
    } finally {
      await origin.close();
    }
  });
});
