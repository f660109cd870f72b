import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createInProcessBus } from '../../src/bus/inProcessBus.ts';
import type { IncomingMessage } from '../../src/bus/messageBus.ts';
import { createJobCommands } from '../../src/commands/jobCommands.ts';
import { createTransferCommands } from '../../src/commands/transferCommands.ts';
import { testContext } from '../helpers/commandContext.ts';
import { startTestControlPlane, type TestControlPlane } from '../helpers/testControlPlane.ts';
import { waitFor } from '../helpers/waitFor.ts';

describe('relay to the in-process bus (embedded defaults)', () => {
  let t: TestControlPlane;
  const bus = createInProcessBus();
  before(async () => (t = await startTestControlPlane('pglite', { relay: true, bus })));
  after(() => t.close());

  it('publishes every event with its headers, and one JOB_ASSIGNED directive per job keyed by node', async () => {
    const events: IncomingMessage[] = [];
    const directives: IncomingMessage[] = [];
    await bus.consume({ group: 'test-events', topics: ['torrent.events'], fromBeginning: true }, async (m) => void events.push(m));
    await bus.consume({ group: 'test-dispatch', topics: ['torrent.jobs.dispatch'], fromBeginning: true }, async (m) => void directives.push(m));

    const transfers = createTransferCommands(t.plane.commands);
    const jobs = createJobCommands(t.plane.commands);
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const created = await transfers.createTransfer(
      { source: { url: 'https://origin.example/model.bin' }, autoStart: true },
      testContext({ requestId: 'rollout-42', traceparent }),
    );
    const transferId = created.result.id;
    for (const nodeId of ['gpu-1', 'gpu-2', 'gpu-3']) {
      await jobs.assignJob({ transferId, nodeId }, nodeId === 'gpu-1' ? 'seed' : 'peer', testContext({ requestId: `assign-${nodeId}`, traceparent }));
    }

    await waitFor('5 events relayed', () => events.filter((m) => m.key.includes(transferId)).length === 5);
    const requested = events.find((m) => m.headers['event-type'] === 'TransferRequested')!;
    assert.equal(requested.key, `transfer-${transferId}`);
    assert.equal(requested.headers['x-request-id'], 'rollout-42');
    assert.equal(requested.headers.traceparent, traceparent);
    assert.equal(requested.headers['schema-version'], '1');
    const body = JSON.parse(requested.value) as { eventId: string; data: { transferId: string }; metadata: { requestId: string } };
    assert.equal(body.eventId, requested.headers['event-id']);
    assert.equal(body.data.transferId, transferId);

    await waitFor('3 directives', () => directives.length === 3);
    assert.deepEqual(directives.map((m) => m.key).sort(), ['gpu-1', 'gpu-2', 'gpu-3']);
    const gpu2 = directives.find((m) => m.key === 'gpu-2')!;
    assert.equal(gpu2.headers['event-type'], 'JOB_ASSIGNED');
    assert.equal(gpu2.headers['x-request-id'], 'assign-gpu-2');
    assert.equal(gpu2.headers.traceparent, traceparent);
    assert.deepEqual(
      (({ directive, transferId: id, nodeId, role }) => ({ directive, id, nodeId, role }))(JSON.parse(gpu2.value) as Record<string, string>),
      { directive: 'JOB_ASSIGNED', id: transferId, nodeId: 'gpu-2', role: 'peer' },
    );

    const metrics = await t.plane.app.inject({ method: 'GET', url: '/metrics' });
    assert.match(metrics.body, /torrentedge_relay_published_events_total [1-9]/);
    assert.match(metrics.body, /torrentedge_relay_directives_total 3/);
    assert.match(metrics.body, /torrentedge_relay_lag_events \d/);
  });
});
