import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import WebTorrent from 'webtorrent';
import { pathToFileURL } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKafkaBus } from '../../src/infra/kafka/kafkaBus.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { generateArtifact } from '../../src/demo/generateArtifact.ts';
import { startLocalOrigin } from '../../src/demo/localOrigin.ts';
import { startCliProcess, type ServerProcess } from '../helpers/serverProcess.ts';
import { bearer, startTestControlPlane, tokens, type TestControlPlane } from '../helpers/testControlPlane.ts';
import { testKafkaBrokers } from '../helpers/testKafka.ts';
import { waitFor } from '../helpers/waitFor.ts';

const mib = 2 ** 20;
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const nodeIds = ['edge-a', 'edge-b', 'edge-c'];
const nodeTokens = Object.fromEntries(nodeIds.map((id) => [id, `node-token-${id}-${randomBytes(8).toString('hex')}`]));

interface JobView {
  nodeId: string;
  state: string;
  role: string;
  highestFencingToken: number;
  chunksVerified: number;
  bytes: { origin: number; peer: number; cas: number };
  failureReason: string | null;
}
interface TransferView {
  status: string;
  pieceLength: number | null;
  pieceCount: number | null;
  jobs: JobView[];
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

describe('data plane end to end: worker processes on loopback (PostgreSQL, Redis, Kafka)', { timeout: 240_000 }, () => {
  let work: string;
  let control: TestControlPlane;
  let apiUrl: string;
  const workers = new Map<string, ServerProcess>();
  const cleanups: Array<() => Promise<unknown>> = [];

  const api = async <T>(method: string, path: string, token: string = tokens.admin, body?: unknown): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${apiUrl}${path}`, {
      method,
      headers: { ...bearer(token), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as T };
  };

  const startWorker = (nodeId: string, env: Record<string, string> = {}): Promise<ServerProcess> =>
    startCliProcess(
      'worker',
      {
        TORRENTEDGE_API_URL: apiUrl,
        TORRENTEDGE_NODE_TOKEN: nodeTokens[nodeId]!,
        TORRENTEDGE_NODE_ID: nodeId,
        TORRENTEDGE_NODE_LABELS: `zone=z1,rack=${nodeId === 'edge-c' ? 'r2' : 'r1'}`,
        TORRENTEDGE_DATA_DIR: join(work, nodeId),
        TORRENTEDGE_LEASE_TTL_MS: '2000',
        TORRENTEDGE_PUSH_ROOTS: join(work, 'pushes'),
        REDIS_URL: redisUrl,
        KAFKA_BROKERS: testKafkaBrokers.join(','),
        TORRENTEDGE_LOG_LEVEL: 'info',
        ...env,
      },
      /worker running/,
    );

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'te-dataplane-'));
    const bus = createKafkaBus({ logger: silentLogger() }, { brokers: testKafkaBrokers, clientId: `te-dataplane-${randomBytes(4).toString('hex')}` });
    control = await startTestControlPlane('postgres', {
      relay: true,
      bus,
      extraTokens: nodeIds.map((id) => ({ subject: `node:${id}`, scopes: ['node'], token: nodeTokens[id]! })),
    });
    cleanups.push(() => bus.close(), () => control.close());
    apiUrl = await control.plane.listen();
    for (const nodeId of nodeIds) workers.set(nodeId, await startWorker(nodeId));
    await waitFor('three nodes registered', async () => (await api<{ items: unknown[] }>('GET', '/api/nodes')).body.items.length === 3, 30_000);
  });

  after(async () => {
    await Promise.all([...workers.values()].map((worker) => worker.stop()));
    for (const cleanup of cleanups.reverse()) await cleanup();
    await rm(work, { recursive: true, force: true });
  });

  async function distribute(name: string, sizeBytes: number, seed?: number) {
    const artifact = join(work, name);
    const sha256 = await generateArtifact(artifact, sizeBytes, seed);
    const origin = await startLocalOrigin(artifact);
    cleanups.push(() => origin.close());
    const created = await api<{ id: string }>('POST', '/api/torrent/create', tokens.writer, { source: { url: origin.url }, name, autoStart: true });
    assert.equal(created.status, 201);
    return { transferId: created.body.id, sha256, origin, path: (nodeId: string) => join(work, nodeId, 'artifacts', created.body.id, name) };
  }

  /**
   * The transfer once it reads completed, with every job of it completed in the same view: the
   * two are projected together (src/projections/index.ts), so a view never shows the one ahead.
   */
  const completed = async (transferId: string, timeoutMs: number): Promise<TransferView> => {
    const view = await waitFor(
      `transfer ${transferId} to read completed`,
      async () => {
        const { body } = await api<TransferView>('GET', `/api/transfers/${transferId}`);
        return body.status === 'completed' ? body : undefined;
      },
      timeoutMs,
    );
    assert.deepEqual(view.jobs.map((job) => job.state), view.jobs.map(() => 'completed'), 'every job reads completed with its transfer');
    return view;
  };

  it('every node ends with the identical artifact, and the origin serves about one copy', async () => {
    const size = 24 * mib + 12_345;
    const { transferId, sha256, origin, path } = await distribute('model.safetensors', size);
    const done = await completed(transferId, 120_000);
    assert.equal(done.jobs.length, 3);
    for (const nodeId of nodeIds) assert.equal(await sha256Of(path(nodeId)), sha256, `${nodeId} holds the artifact`);
    assert.ok(origin.bytesServed() <= 1.05 * size, `origin served ${origin.bytesServed()} bytes for a ${size}-byte artifact`);
    const fromPeers = done.jobs.reduce((sum, job) => sum + job.bytes.peer, 0);
    assert.ok(fromPeers >= 2 * size * 0.9, `peers supplied ${fromPeers} bytes`);
  });

  it('chunks already in a node\'s CAS are not fetched again by another transfer of the same bytes', async () => {
    const size = 6 * mib;
    const first = await distribute('base-image.qcow2', size);
    await completed(first.transferId, 60_000);
    const again = await api<{ id: string }>('POST', '/api/torrent/create', tokens.writer, { source: { url: first.origin.url }, name: 'base-image-again.qcow2', autoStart: true });
    const done = await completed(again.body.id, 60_000);
    for (const job of done.jobs.filter((candidate) => candidate.role === 'peer')) {
      assert.equal(job.bytes.peer, 0, `${job.nodeId} fetched nothing from peers`);
      assert.equal(job.bytes.cas, size, `${job.nodeId} found every chunk in its CAS`);
    }
    // The file is named by the origin (its URL's last segment); the transfer's name only labels it.
    for (const nodeId of nodeIds) assert.equal(await sha256Of(join(work, nodeId, 'artifacts', again.body.id, 'base-image.qcow2')), first.sha256);
  });

  it('push: a directory on one node reaches every node, file by file; a path outside the push roots is refused', async () => {
    const tree = join(work, 'pushes', 'llama-shards');
    await mkdir(join(tree, 'tokenizer'), { recursive: true });
    const digests: Record<string, string> = {};
    for (const [name, size] of [['model-00001-of-00002.safetensors', 5 * mib + 3], ['model-00002-of-00002.safetensors', 2 * mib], ['tokenizer/tokenizer.json', 70_001]] as const) {
      digests[name] = await generateArtifact(join(tree, name), size);
    }
    const created = await api<{ id: string }>('POST', '/api/torrent/create', tokens.writer, { source: { url: pathToFileURL(tree).href }, seedNode: 'edge-a', autoStart: true });
    assert.equal(created.status, 201);
    await waitFor('the push to complete', async () => (await api<TransferView>('GET', `/api/transfers/${created.body.id}`)).body.status === 'completed', 60_000);
    for (const nodeId of nodeIds) {
      for (const [name, digest] of Object.entries(digests)) assert.equal(await sha256Of(join(work, nodeId, 'artifacts', created.body.id, name)), digest, `${nodeId}: ${name}`);
    }

    const outside = await api<{ id: string }>('POST', '/api/torrent/create', tokens.writer, { source: { url: pathToFileURL(join(work, 'edge-a')).href }, seedNode: 'edge-a', autoStart: true, targets: { kind: 'nodes', nodeIds: ['edge-b'] } });
    const refused = await waitFor('the seed job to fail', async () => {
      const { body } = await api<TransferView>('GET', `/api/transfers/${outside.body.id}`);
      return body.jobs.find((job) => job.role === 'seed' && job.state === 'failed');
    }, 30_000);
    assert.match(refused.failureReason ?? '', /outside this node's push roots/);
  });

  it('a worker killed -9 mid-transfer is replaced; the replacement holds a higher token and the old token is refused', async () => {
    // edge-c fetches slowly, so the kill lands mid-transfer.
    await workers.get('edge-c')!.stop();
    workers.set('edge-c', await startWorker('edge-c', { TORRENTEDGE_DOWNLOAD_LIMIT: String(3 * mib) }));
    const size = 24 * mib;
    // Bytes of their own: with the first test's (same seed, same pieces) every chunk would
    // already be in edge-c's CAS, and the job could complete before any report showed it partway.
    const { transferId, sha256, path } = await distribute('dataset-shard.bin', size, 11);
    const job = (body: TransferView) => body.jobs.find((candidate) => candidate.nodeId === 'edge-c');
    const partway = await waitFor(
      'edge-c to have verified some chunks, not all',
      async () => {
        const { body } = await api<TransferView>('GET', `/api/transfers/${transferId}`);
        const current = job(body);
        return current !== undefined && current.chunksVerified >= 3 && body.pieceCount !== null && current.chunksVerified < body.pieceCount ? { ...current, pieceLength: body.pieceLength! } : undefined;
      },
      60_000,
    );
    await workers.get('edge-c')!.kill();
    const replacement = await startWorker('edge-c', { TORRENTEDGE_WORKER_METRICS_PORT: '0' });
    workers.set('edge-c', replacement);

    const finished = await waitFor(
      'the replacement to complete the job',
      async () => {
        const current = job((await api<TransferView>('GET', `/api/transfers/${transferId}`)).body);
        return current?.state === 'completed' ? current : undefined;
      },
      120_000,
    );
    assert.ok(finished.highestFencingToken > partway.highestFencingToken, `token ${finished.highestFencingToken} after ${partway.highestFencingToken}`);
    // What the replacement itself fetched: the chunks verified before the kill came from its CAS.
    const metricsPort = Number(/"metricsPort":(\d+)/.exec(replacement.output())?.[1]);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const bytesFrom = (source: string) => Number(new RegExp(`torrentedge_worker_bytes_total\\{source="${source}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
    assert.ok(bytesFrom('cas') >= partway.chunksVerified * partway.pieceLength, `the replacement found ${bytesFrom('cas')} bytes in its CAS`);
    assert.ok(bytesFrom('peer') <= size - bytesFrom('cas'), `the replacement fetched ${bytesFrom('peer')} bytes from peers, not the chunks it had`);
    assert.equal(await sha256Of(path('edge-c')), sha256);

    const stale = await api<{ error: { code: string } }>('POST', `/api/jobs/${transferId}/edge-c/chunks`, nodeTokens['edge-c'], {
      fencingToken: partway.highestFencingToken,
      source: 'peer',
      chunkIndexes: [0],
    });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.error.code, 'TE_ERR_STALE_FENCING_TOKEN');
  });

  it('a stock BitTorrent client given the .torrent and its announce key joins the swarm through the tracker', async () => {
    // A target without a worker keeps the transfer running, so the workers keep seeding.
    assert.equal((await api('PUT', '/api/nodes/ghost', tokens.admin, { labels: {}, casVolume: '/nowhere', capacityBytes: 1 })).status, 200);
    await waitFor('the ghost node projected', async () => (await api<{ items: unknown[] }>('GET', '/api/nodes')).body.items.length === 4);
    const artifact = join(work, 'stock-client.bin');
    await generateArtifact(artifact, 5 * mib + 99);
    const origin = await startLocalOrigin(artifact);
    cleanups.push(() => origin.close());
    const created = await api<{ id: string }>('POST', '/api/torrent/create', tokens.writer, { source: { url: origin.url }, autoStart: true, targets: { kind: 'nodes', nodeIds: ['edge-a', 'edge-b', 'ghost'] } });
    await waitFor('edge-a and edge-b to complete', async () => {
      const { body } = await api<TransferView>('GET', `/api/transfers/${created.body.id}`);
      return body.jobs.filter((job) => job.state === 'completed').length === 2;
    }, 60_000);
    const { torrents } = (await api<{ torrents: Array<{ index: number; url: string }> }>('GET', `/api/transfers/${created.body.id}/torrent`, tokens.reader)).body;
    const downloads = join(work, 'stock-client');
    const client = new WebTorrent({ dht: false, lsd: false, utp: false, natUpnp: false, natPmp: false });
    cleanups.push(() => new Promise<void>((resolve) => client.destroy(() => resolve())));
    const content = await readFile(artifact);
    let offset = 0;
    for (const { url } of torrents) {
      const response = await fetch(`${apiUrl}${url}`, { headers: bearer(tokens.reader) });
      const torrentFile = Buffer.from(await response.arrayBuffer());
      const torrent = client.add(torrentFile, { path: downloads });
      await new Promise<void>((resolve, reject) => {
        torrent.once('done', () => resolve());
        torrent.once('error', reject);
      });
      const file = torrent.files[0]!;
      const bytes = await readFile(join(downloads, file.path));
      assert.ok(bytes.equals(content.subarray(offset, offset + bytes.length)), `segment at ${offset} matches the artifact`);
      offset += bytes.length;
    }
    assert.equal(offset, content.length, 'the segments cover the artifact');
    await api('POST', `/api/transfers/${created.body.id}/cancel`, tokens.writer, { reason: 'test done' });
  });

  it("a node token cannot report for another node's job", async () => {
    const response = await api<{ error: { code: string } }>('POST', `/api/jobs/${randomBytes(16).toString('hex').replace(/(.{8})(.{4})(.{4})(.{4})(.{12})/, '$1-$2-$3-$4-$5')}/edge-b/chunks`, nodeTokens['edge-a'], {
      fencingToken: 1,
      source: 'peer',
      chunkIndexes: [0],
    });
    assert.equal(response.status, 403);
    assert.equal(response.body.error.code, 'TE_ERR_FORBIDDEN');
  });
});
