import assert from 'node:assert/strict';
import type { TestControlPlane } from './testControlPlane.ts';
import { bearer, tokens } from './testControlPlane.ts';
import { waitFor } from './waitFor.ts';

export const nodeToken = (nodeId: string): string => `node-token-${nodeId}-0123456789`;
export const nodeTokenEntries = (nodeIds: readonly string[]) => nodeIds.map((nodeId) => ({ subject: `node:${nodeId}`, scopes: ['node'], token: nodeToken(nodeId) }));

const post = async (t: TestControlPlane, url: string, token: string, payload: unknown) => {
  const response = await t.plane.app.inject({ method: 'POST', url, headers: bearer(token), payload: payload as Record<string, unknown> });
  assert.ok(response.statusCode < 300, `${url}: ${response.statusCode} ${response.body}`);
  return response;
};

/**
 * A rollout driven through the job routes with node tokens, as workers drive it, but without a
 * data plane: deterministic and fast. The first node (by id) is the seed.
 */
export async function startSimulatedRollout(t: TestControlPlane, nodeIds: readonly string[], layout: { pieceCount: number; pieceLength: number }) {
  for (const nodeId of nodeIds) {
    const response = await t.plane.app.inject({ method: 'PUT', url: `/api/nodes/${nodeId}`, headers: bearer(nodeToken(nodeId)), payload: { labels: { rack: 'r1' }, casVolume: `/cas/${nodeId}`, capacityBytes: 2 ** 40 } });
    assert.equal(response.statusCode, 200, response.body);
  }
  await waitFor('nodes projected', async () => (await t.plane.app.inject({ method: 'GET', url: '/api/nodes', headers: bearer(tokens.reader) })).json<{ items: unknown[] }>().items.length >= nodeIds.length);
  const created = await post(t, '/api/torrent/create', tokens.writer, { source: { url: 'https://origin.example/model.safetensors' }, autoStart: true, targets: { kind: 'nodes', nodeIds } });
  const transferId = created.json<{ id: string }>().id;
  await waitFor('jobs assigned', async () => (await t.plane.eventLog.readStreamsWithPrefix([`job-${transferId}.`])).filter((e) => e.type === 'JobAssigned').length === nodeIds.length);
  const totalBytes = layout.pieceCount * layout.pieceLength;
  const seed = [...nodeIds].sort()[0]!;
  await post(t, `/api/transfers/${transferId}/manifest`, nodeToken(seed), { ...layout, totalBytes, segmentPieces: layout.pieceCount, files: [{ path: 'model.safetensors', length: totalBytes }] });
  for (const nodeId of nodeIds) await post(t, `/api/jobs/${transferId}/${nodeId}/lease`, nodeToken(nodeId), { workerId: `worker-${nodeId}`, fencingToken: 1 });
  return {
    transferId,
    seed,
    /** One node's progress report, as a worker sends it about once a second. */
    reportChunks: (nodeId: string, chunkIndexes: number[], source: 'origin' | 'peer' | 'cas' = nodeId === seed ? 'origin' : 'peer') =>
      post(t, `/api/jobs/${transferId}/${nodeId}/chunks`, nodeToken(nodeId), { fencingToken: 1, source, chunkIndexes }),
    complete: (nodeId: string) => post(t, `/api/jobs/${transferId}/${nodeId}/complete`, nodeToken(nodeId), { fencingToken: 1 }),
  };
}
