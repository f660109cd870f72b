import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestControlPlane, tokens, type TestControlPlane } from '../helpers/testControlPlane.ts';
import { nodeTokenEntries, startSimulatedRollout } from '../helpers/simulatedRollout.ts';
import { subscribeSse, subscribeWs, type LiveSubscription } from '../helpers/graphqlClients.ts';

type Progress = { transferProgress: { projection: string; chunks: Array<{ nodeId: string; chunkIndexes: number[] }>; transfer: { progress: number } | null } };
const progressQuery = `subscription($id: ID!) { transferProgress(id: $id) { projection chunks { nodeId chunkIndexes } transfer { progress } } }`;
const hasChunk = (index: number) => (value: Progress) => value.transferProgress.chunks.some((batch) => batch.chunkIndexes.includes(index));

describe('GraphQL subscriptions: pushed from projection commits over SSE and WebSocket (embedded store, real HTTP)', () => {
  let t: TestControlPlane;
  let url: string;
  let rollout: Awaited<ReturnType<typeof startSimulatedRollout>>;
  let nextChunk = 0;
  before(async () => {
    t = await startTestControlPlane('pglite', { extraTokens: nodeTokenEntries(['gpu-1', 'gpu-2']) });
    url = await t.plane.listen();
    rollout = await startSimulatedRollout(t, ['gpu-1', 'gpu-2'], { pieceCount: 256, pieceLength: 64 * 1024 });
  });
  after(() => t.close());

  /**
   * A subscription is live once a push reached it: report chunks until one does (waiting on that
   * condition), then time one report from its append to the push of the commit it caused.
   */
  async function measure(live: LiveSubscription<Progress>): Promise<number> {
    for (let attempt = 0; ; attempt += 1) {
      const index = nextChunk++;
      await rollout.reportChunks('gpu-2', [index]);
      try {
        await live.next(hasChunk(index), 500);
        break;
      } catch (error) {
        if (attempt > 20) throw error;
      }
    }
    const index = nextChunk++;
    const appendedAt = performance.now();
    await rollout.reportChunks('gpu-2', [index]);
    const push = await live.next(hasChunk(index), 2000);
    return push.at - appendedAt;
  }

  it('over SSE a subscriber receives the progress within one second of the commit', async () => {
    const { status, live } = await subscribeSse<Progress>(url, tokens.reader, progressQuery, { id: rollout.transferId });
    assert.equal(status, 200);
    try {
      const latencyMs = await measure(live!);
      assert.ok(latencyMs < 1000, `push after ${latencyMs.toFixed(0)} ms`);
      const last = live!.received.at(-1)!.value.transferProgress;
      assert.equal(last.projection, 'chunks');
      assert.ok(last.transfer !== null && last.transfer.progress > 0);
    } finally {
      await live!.close();
    }
  });

  it('over WebSocket (graphql-ws) a subscriber receives the progress within one second of the commit', async () => {
    const { live, errors } = subscribeWs<Progress>(url, tokens.reader, progressQuery, { id: rollout.transferId });
    try {
      const latencyMs = await measure(live);
      assert.ok(latencyMs < 1000, `push after ${latencyMs.toFixed(0)} ms`);
      assert.deepEqual(errors, []);
    } finally {
      await live.close();
    }
  });

  it('fleetActivity pushes after a commit, with the fleet totals read after it', async () => {
    const { live } = subscribeWs<{ fleetActivity: { transferIds: string[]; fleet: { nodes: number } } }>(url, tokens.reader, 'subscription { fleetActivity { transferIds fleet { nodes } } }');
    try {
      const seen = (value: { fleetActivity: { transferIds: string[] } }) => value.fleetActivity.transferIds.includes(rollout.transferId);
      for (let attempt = 0; ; attempt += 1) {
        await rollout.reportChunks('gpu-1', [nextChunk++]);
        const push = await live.next(seen, 500).catch((error: Error) => {
          if (attempt > 20) throw error;
          return undefined;
        });
        if (push !== undefined) {
          assert.equal(push.value.fleetActivity.fleet.nodes, 2);
          break;
        }
      }
    } finally {
      await live.close();
    }
  });

  it('refuses unauthenticated subscriptions: 401 over SSE, close code 4403 over WebSocket', async () => {
    const sse = await subscribeSse(url, undefined, progressQuery, { id: rollout.transferId });
    assert.equal(sse.status, 401);
    const wrong = await subscribeSse(url, 'not-a-token-0123456789', progressQuery, { id: rollout.transferId });
    assert.equal(wrong.status, 401);
    for (const token of [undefined, 'not-a-token-0123456789']) {
      const ws = subscribeWs<Progress>(url, token, progressQuery, { id: rollout.transferId });
      assert.equal(await ws.closed, 4403);
      assert.equal(ws.live.received.length, 0);
    }
  });

  it('closing the api ends open subscriptions instead of waiting for them', async () => {
    const { live } = await subscribeSse<Progress>(url, tokens.reader, progressQuery, { id: rollout.transferId });
    const ws = subscribeWs<Progress>(url, tokens.reader, progressQuery, { id: rollout.transferId });
    await measure(live!);
    await measure(ws.live);
    const started = performance.now();
    await t.plane.app.close();
    assert.ok(performance.now() - started < 2000, 'the api closed promptly');
    assert.equal(await ws.closed, 1001);
  });
});
