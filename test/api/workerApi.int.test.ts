import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import bencode from 'bencode';
import type { InjectOptions } from 'fastify';
import { buildSegmentTorrent } from '../../src/cas/index.ts';
import { bearer, startTestControlPlane, tokens, type TestControlPlane } from '../helpers/testControlPlane.ts';
import { waitFor } from '../helpers/waitFor.ts';

const nodeTokens = { seed: 'node-token-seed-0123456789', peer: 'node-token-peer-0123456789' } as const;
const kib = 1024;
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('the routes workers use: manifest, torrents, job reports (embedded store, inject)', () => {
  let t: TestControlPlane;
  let transferId: string;
  before(async () => {
    t = await startTestControlPlane('pglite', {
      extraTokens: [
        { subject: 'node:gpu-1', scopes: ['node'], token: nodeTokens.seed },
        { subject: 'node:gpu-2', scopes: ['node'], token: nodeTokens.peer },
      ],
    });
    for (const [nodeId, token] of [['gpu-1', nodeTokens.seed], ['gpu-2', nodeTokens.peer]] as const) {
      const registered = await inject({ method: 'PUT', url: `/api/nodes/${nodeId}`, headers: bearer(token), payload: { labels: { rack: 'r1' }, casVolume: '/cas', capacityBytes: 1 } });
      assert.equal(registered.statusCode, 200);
    }
    await waitFor('both nodes projected', async () => (await inject({ method: 'GET', url: '/api/nodes', headers: bearer(tokens.reader) })).json<{ items: unknown[] }>().items.length === 2);
    const created = await inject({ method: 'POST', url: '/api/torrent/create', headers: bearer(tokens.writer), payload: { source: { url: 'https://origin.example/model.bin' }, autoStart: true } });
    transferId = created.json<{ id: string }>().id;
    await waitFor('both jobs assigned', async () => (await t.plane.eventLog.readStreamsWithPrefix([`job-${transferId}.`])).filter((e) => e.type === 'JobAssigned').length === 2);
  });
  after(() => t.close());

  const inject = (options: InjectOptions) => t.plane.app.inject(options);
  const eventCount = async () => Number((await t.plane.db.query<{ n: number }>('SELECT count(*)::int AS n FROM te_events')).rows[0]!.n);
  const layout = { totalBytes: 40 * kib, pieceLength: 16 * kib, pieceCount: 3, segmentPieces: 2, files: [{ path: 'model.bin', length: 40 * kib }] };
  const segment = (index: number) => {
    const pieces = index === 0 ? 2 : 1;
    const { info, infoHash } = buildSegmentTorrent({ name: `part-${index}`, pieceLength: 16 * kib, length: index === 0 ? 32 * kib : 8 * kib, sha1: Array.from({ length: pieces }, () => Buffer.alloc(20, index + 1)) });
    return { body: { info: info.toString('base64'), pieceSha256: Array.from({ length: pieces }, (_, i) => sha256(`${index}.${i}`)) }, infoHash };
  };

  it('only the seed node publishes the manifest; a peer node, a writer and a reader are refused and nothing is appended', async () => {
    const before = await eventCount();
    for (const token of [nodeTokens.peer, tokens.writer, tokens.reader]) {
      const refused = await inject({ method: 'POST', url: `/api/transfers/${transferId}/manifest`, headers: bearer(token), payload: layout });
      assert.equal(refused.statusCode, 403, token);
    }
    assert.equal(await eventCount(), before);
    const published = await inject({ method: 'POST', url: `/api/transfers/${transferId}/manifest`, headers: bearer(nodeTokens.seed), payload: layout });
    assert.equal(published.statusCode, 200);
  });

  it('a segment whose info disagrees with the layout is a 400 and appends nothing', async () => {
    const before = await eventCount();
    const wrong = segment(1); // one piece where segment 0 has two
    const response = await inject({ method: 'PUT', url: `/api/transfers/${transferId}/manifest/segments/0`, headers: bearer(nodeTokens.seed), payload: wrong.body });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json<{ error: { code: string } }>().error.code, 'TE_ERR_VALIDATION');
    assert.equal(await eventCount(), before);
  });

  it('serves each published segment as a .torrent whose info hash is the manifest\'s, announcing with a key of the caller', async () => {
    for (const index of [0, 1]) {
      const response = await inject({ method: 'PUT', url: `/api/transfers/${transferId}/manifest/segments/${index}`, headers: bearer(nodeTokens.seed), payload: segment(index).body });
      assert.equal(response.statusCode, 200, response.body);
      // The seed fetches each segment right after publishing it, while the api may still hold the
      // transfer's state from the read just before (segment 1 after segment 0's): never a 404.
      const torrent = await inject({ method: 'GET', url: `/api/transfers/${transferId}/torrent/${index}`, headers: bearer(nodeTokens.seed) });
      assert.equal(torrent.statusCode, 200, `segment ${index} just published: ${torrent.body}`);
    }
    const manifest = (await inject({ method: 'GET', url: `/api/transfers/${transferId}/manifest`, headers: bearer(nodeTokens.peer) })).json<{ manifest: { segments: Array<{ infoHash: string }>; complete: boolean } }>();
    assert.deepEqual(manifest.manifest.segments.map((s) => s.infoHash), [segment(0).infoHash, segment(1).infoHash]);
    assert.equal(manifest.manifest.complete, false);

    const asNode = await inject({ method: 'GET', url: `/api/transfers/${transferId}/torrent/0`, headers: bearer(nodeTokens.peer) });
    assert.equal(asNode.statusCode, 200);
    assert.equal(asNode.headers['content-type'], 'application/x-bittorrent');
    const decoded = bencode.decode(asNode.rawPayload) as { announce: Uint8Array; info: unknown };
    assert.equal(createHash('sha1').update(bencode.encode(decoded.info)).digest('hex'), segment(0).infoHash);
    const nodeAnnounce = Buffer.from(decoded.announce).toString();
    assert.match(nodeAnnounce, /^http:\/\/localhost:80\/tracker\/[A-Za-z0-9_-]+\/announce$/);
    const asReader = bencode.decode((await inject({ method: 'GET', url: `/api/transfers/${transferId}/torrent/0`, headers: bearer(tokens.reader) })).rawPayload) as { announce: Uint8Array };
    assert.notEqual(Buffer.from(asReader.announce).toString(), nodeAnnounce, 'an external reader gets its own key');

    const list = (await inject({ method: 'GET', url: `/api/transfers/${transferId}/torrent`, headers: bearer(tokens.reader) })).json<{ torrents: Array<{ index: number; infoHash: string | null }> }>();
    assert.deepEqual(list.torrents.map((item) => item.infoHash), [segment(0).infoHash, segment(1).infoHash]);
    const missing = await inject({ method: 'GET', url: `/api/transfers/${randomUUID()}/torrent/0`, headers: bearer(tokens.reader) });
    assert.equal(missing.statusCode, 404);
  });

  it('answers an unchanged manifest with a bare 304, and a heartbeat with a bare 204', async () => {
    // A Content-Length on either made undici drop the keep-alive connection (a length mismatch),
    // so every manifest poll of every node opened a new connection.
    const first = await inject({ method: 'GET', url: `/api/transfers/${transferId}/manifest`, headers: bearer(nodeTokens.peer) });
    const etag = first.headers.etag;
    assert.equal(typeof etag, 'string');
    const unchanged = await inject({ method: 'GET', url: `/api/transfers/${transferId}/manifest`, headers: { ...bearer(nodeTokens.peer), 'if-none-match': etag as string } });
    assert.equal(unchanged.statusCode, 304);
    assert.equal(unchanged.headers['content-length'], undefined);
    assert.equal(unchanged.rawPayload.length, 0);
    const beat = await inject({ method: 'PUT', url: '/api/nodes/gpu-2/heartbeat', headers: bearer(nodeTokens.peer), payload: { workerId: 'w-0', activeJobs: 0 } });
    assert.equal(beat.statusCode, 204);
    assert.equal(beat.headers['content-length'], undefined);
    assert.equal(beat.rawPayload.length, 0);
  });

  it("a node reports for its own job only, with the lease's token; a lower token is refused once a higher one is granted", async () => {
    const job = `/api/jobs/${transferId}/gpu-2`;
    const foreign = await inject({ method: 'POST', url: `${job}/lease`, headers: bearer(nodeTokens.seed), payload: { workerId: 'w', fencingToken: 1 } });
    assert.equal(foreign.statusCode, 403);
    assert.equal((await inject({ method: 'POST', url: `${job}/lease`, headers: bearer(nodeTokens.peer), payload: { workerId: 'w-1', fencingToken: 1 } })).statusCode, 200);
    assert.equal((await inject({ method: 'POST', url: `${job}/chunks`, headers: bearer(nodeTokens.peer), payload: { fencingToken: 1, source: 'peer', chunkIndexes: [0, 1] } })).statusCode, 200);
    assert.equal((await inject({ method: 'POST', url: `${job}/lease`, headers: bearer(nodeTokens.peer), payload: { workerId: 'w-2', fencingToken: 2 } })).statusCode, 200);
    const stale = await inject({ method: 'POST', url: `${job}/chunks`, headers: bearer(nodeTokens.peer), payload: { fencingToken: 1, source: 'peer', chunkIndexes: [2] } });
    assert.equal(stale.statusCode, 409);
    assert.equal(stale.json<{ error: { code: string } }>().error.code, 'TE_ERR_STALE_FENCING_TOKEN');
    await waitFor('the job listed', async () => (await inject({ method: 'GET', url: '/api/nodes/gpu-2/jobs', headers: bearer(nodeTokens.peer) })).json<{ items: Array<{ transferId: string }> }>().items.some((item) => item.transferId === transferId));
    assert.equal((await inject({ method: 'GET', url: '/api/nodes/gpu-2/jobs', headers: bearer(nodeTokens.seed) })).statusCode, 403);
    assert.equal((await inject({ method: 'PUT', url: '/api/nodes/gpu-2/heartbeat', headers: bearer(nodeTokens.peer), payload: { workerId: 'w-2', activeJobs: 1 } })).statusCode, 204);
  });

  it('a complete manifest needs every segment, then records the file digests', async () => {
    const files = [{ path: 'model.bin', length: 40 * kib, sha256: sha256('file') }];
    const completed = await inject({ method: 'POST', url: `/api/transfers/${transferId}/manifest/complete`, headers: bearer(nodeTokens.seed), payload: { files } });
    assert.equal(completed.statusCode, 200, completed.body);
    const manifest = (await inject({ method: 'GET', url: `/api/transfers/${transferId}/manifest`, headers: bearer(tokens.reader) })).json<{ manifest: { complete: boolean; files: Array<{ sha256: string }> } }>();
    assert.equal(manifest.manifest.complete, true);
    assert.equal(manifest.manifest.files[0]!.sha256, files[0]!.sha256);
  });
});
