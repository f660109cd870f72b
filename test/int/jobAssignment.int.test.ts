import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions } from 'fastify';
import { createInProcessBus } from '../../src/bus/inProcessBus.ts';
import type { IncomingMessage } from '../../src/bus/messageBus.ts';
import { bearer, startTestControlPlane, tokens, type TestControlPlane } from '../helpers/testControlPlane.ts';
import { waitFor } from '../helpers/waitFor.ts';

interface JobView { nodeId: string; role: string; state: string }

describe('job assignment when a transfer starts (embedded defaults)', () => {
  let t: TestControlPlane;
  const bus = createInProcessBus();
  const directives: IncomingMessage[] = [];
  before(async () => {
    t = await startTestControlPlane('pglite', { relay: true, bus });
    await bus.consume({ group: 'test-dispatch', topics: ['torrent.jobs.dispatch'], fromBeginning: true }, async (m) => void directives.push(m));
    const fleet = [
      ['gpu-a1', { zone: 'a', rack: 'r1' }],
      ['gpu-a2', { zone: 'a', rack: 'r2' }],
      ['gpu-b1', { zone: 'b', rack: 'r3' }],
      ['gpu-b2', { zone: 'b', rack: 'r3' }],
    ] as const;
    for (const [nodeId, labels] of fleet) {
      const response = await inject({ method: 'PUT', url: `/api/nodes/${nodeId}`, headers: bearer(tokens.writer), payload: { labels, casVolume: '/var/lib/torrentedge/cas', capacityBytes: 2 ** 40 } });
      assert.equal(response.statusCode, 200);
    }
    await waitFor('four nodes projected', async () => (await inject({ method: 'GET', url: '/api/nodes', headers: bearer(tokens.reader) })).json<{ items: unknown[] }>().items.length === 4);
  });
  after(() => t.close());

  const inject = (options: InjectOptions) => t.plane.app.inject(options);
  const create = async (payload: object) => {
    const response = await inject({ method: 'POST', url: '/api/torrent/create', headers: bearer(tokens.writer), payload: { source: { url: 'https://origin.example/llama.safetensors' }, ...payload } });
    assert.equal(response.statusCode, 201, response.body);
    return response.json<{ id: string }>().id;
  };
  const jobsOf = async (id: string, count: number) =>
    waitFor(`${count} jobs of ${id}`, async () => {
      const transfer = (await inject({ method: 'GET', url: `/api/transfers/${id}`, headers: bearer(tokens.reader) })).json<{ jobs: JobView[]; nodes: { total: number } }>();
      return transfer.jobs.length === count && transfer.nodes.total === count ? transfer.jobs : undefined;
    });

  it('assigns a label selector to the matching nodes, the first as seed, and dispatches one directive per node', async () => {
    const id = await create({ autoStart: true, targets: { kind: 'selector', labels: { zone: 'a' } } });
    const jobs = await jobsOf(id, 2);
    assert.deepEqual(jobs.map((job) => [job.nodeId, job.role, job.state]), [['gpu-a1', 'seed', 'assigned'], ['gpu-a2', 'peer', 'assigned']]);
    await waitFor('two directives', () => directives.filter((m) => m.value.includes(id)).length === 2);
    assert.deepEqual(directives.filter((m) => m.value.includes(id)).map((m) => m.key).sort(), ['gpu-a1', 'gpu-a2']);
  });

  it('assigns every registered node for "all", and exactly the listed ones for a list', async () => {
    const all = await create({ autoStart: true });
    assert.deepEqual((await jobsOf(all, 4)).map((job) => job.nodeId), ['gpu-a1', 'gpu-a2', 'gpu-b1', 'gpu-b2']);
    const listed = await create({ autoStart: true, targets: { kind: 'nodes', nodeIds: ['gpu-b2', 'gpu-b1'] } });
    assert.deepEqual((await jobsOf(listed, 2)).map((job) => [job.nodeId, job.role]), [['gpu-b1', 'seed'], ['gpu-b2', 'peer']]);
  });

  it('assigns only when the transfer starts, and once: a pause and resume assign nothing new', async () => {
    const id = await create({ targets: { kind: 'selector', labels: { rack: 'r3' } } });
    const command = (action: string) => inject({ method: 'POST', url: `/api/transfers/${id}/${action}`, headers: bearer(tokens.writer) });
    await t.plane.projector!.waitForPosition(await t.plane.eventLog.headPosition());
    const before = (await inject({ method: 'GET', url: `/api/transfers/${id}`, headers: bearer(tokens.reader) })).json<{ jobs: JobView[] }>();
    assert.deepEqual(before.jobs, []);
    assert.equal((await command('start')).statusCode, 200);
    await jobsOf(id, 2);
    assert.equal((await command('pause')).statusCode, 200);
    assert.equal((await command('resume')).statusCode, 200);
    const { rows } = await t.plane.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM te_events WHERE event_type = 'JobAssigned' AND stream_id LIKE $1`, [`job-${id}.%`]);
    assert.equal(rows[0]!.n, 2);
  });

  it('a node that joins while a transfer runs gets a peer job in it if it is a target, and only then', async () => {
    const id = await create({ autoStart: true, targets: { kind: 'selector', labels: { zone: 'a' } } });
    await jobsOf(id, 2);
    for (const [nodeId, zone] of [['gpu-a9', 'a'], ['gpu-b9', 'b']] as const) {
      const response = await inject({ method: 'PUT', url: `/api/nodes/${nodeId}`, headers: bearer(tokens.writer), payload: { labels: { zone }, casVolume: '/cas', capacityBytes: 1 } });
      assert.equal(response.statusCode, 200);
    }
    const jobs = await jobsOf(id, 3);
    assert.deepEqual(jobs.map((job) => [job.nodeId, job.role]), [['gpu-a1', 'seed'], ['gpu-a2', 'peer'], ['gpu-a9', 'peer']]);
    await waitFor('a directive for the late node', () => directives.some((m) => m.key === 'gpu-a9' && m.value.includes(id)));
    // A transfer that has ended takes no one; a running one for zone b shows the registration was handled.
    const done = await create({ autoStart: true, targets: { kind: 'selector', labels: { zone: 'b' } } });
    await jobsOf(done, 3);
    assert.equal((await inject({ method: 'POST', url: `/api/transfers/${done}/cancel`, headers: bearer(tokens.writer), payload: { reason: 'test' } })).statusCode, 200);
    const witness = await create({ autoStart: true, targets: { kind: 'selector', labels: { zone: 'b' } } });
    await jobsOf(witness, 3);
    assert.equal((await inject({ method: 'PUT', url: '/api/nodes/gpu-b10', headers: bearer(tokens.writer), payload: { labels: { zone: 'b' }, casVolume: '/cas', capacityBytes: 1 } })).statusCode, 200);
    assert.ok((await jobsOf(witness, 4)).some((job) => job.nodeId === 'gpu-b10'));
    const { rows } = await t.plane.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM te_events WHERE event_type = 'JobAssigned' AND stream_id = $1`, [`job-${done}.gpu-b10`]);
    assert.equal(rows[0]!.n, 0);
  });

  it('refuses a node registration with unknown fields or a bad node id', async () => {
    const bad = await inject({ method: 'PUT', url: '/api/nodes/gpu-x', headers: bearer(tokens.writer), payload: { labels: {}, casVolume: '/cas', capacityBytes: 1, gpu: 'h100' } });
    assert.equal(bad.statusCode, 400);
    const badId = await inject({ method: 'PUT', url: '/api/nodes/..%2Fetc', headers: bearer(tokens.writer), payload: { labels: {}, casVolume: '/cas', capacityBytes: 1 } });
    assert.equal(badId.statusCode, 400);
    const reader = await inject({ method: 'PUT', url: '/api/nodes/gpu-x', headers: bearer(tokens.reader), payload: { labels: {}, casVolume: '/cas', capacityBytes: 1 } });
    assert.equal(reader.statusCode, 403);
  });
});
