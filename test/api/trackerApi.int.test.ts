import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import bencode from 'bencode';
import Client from 'bittorrent-tracker';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../src/api/appDeps.ts';
import { loadTokenStore } from '../../src/api/auth/tokens.ts';
import { buildApp } from '../../src/api/buildApp.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { announceUrl, createAnnounceKeys } from '../../src/tracker/announceKey.ts';
import { waitFor } from '../helpers/waitFor.ts';

const transferId = '3b0f5a9e-2c41-4d7a-8e6b-91c0d2e4f5a6';
// Bytes ≥ 0x80 that are not UTF-8: a parser that decodes the query as text would corrupt them.
const infoHash = 'fe80c3ff00112233445566778899aabbccddeeff';
const foreignHash = '0123456789abcdef0123456789abcdef01234567';
const labels: Record<string, Record<string, string>> = {
  'node-a': { zone: 'z1', rack: 'r1' },
  'node-b': { zone: 'z1', rack: 'r1' },
  'node-c': { zone: 'z1', rack: 'r2' },
  'node-d': { zone: 'z2', rack: 'r7' },
};

describe('tracker over HTTP (real socket, bittorrent-tracker client)', () => {
  const keys = createAnnounceKeys(Buffer.alloc(32, 9));
  let app: FastifyInstance;
  let base: string;

  before(async () => {
    // The command and query ports are left out: routes reach them only in their handlers, which
    // this test does not call, and the tracker needs none of them.
    const deps: Partial<AppDeps> = {
      logger: silentLogger(),
      metrics: createMetrics(),
      tokens: await loadTokenStore({ adminToken: 'tracker-test-admin-token' }),
      readiness: [],
      tracker: {
        keys,
        allowedInfoHashes: async (id) => (id === transferId ? new Set([infoHash]) : undefined),
        nodeLabels: async (nodeId) => labels[nodeId],
      },
    };
    app = await buildApp(deps as AppDeps, { bodyLimitBytes: 1024 * 1024 });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => app.close());

  const urlFor = (nodeId: string | null) => announceUrl(base, keys.issue({ transferId, nodeId }));
  const peerId = (name: string) => Buffer.from(name.padEnd(20, '-')).toString('hex');
  const startClient = (nodeId: string, port: number, hash = infoHash) => {
    const client = new Client({ infoHash: hash, peerId: peerId(nodeId), announce: urlFor(nodeId), port });
    const peers = new Set<string>();
    const warnings: string[] = [];
    client.on('peer', (address: string) => peers.add(address));
    client.on('warning', (error: Error) => warnings.push(error.message));
    client.on('error', (error: Error) => warnings.push(error.message));
    client.start();
    return { client, peers, warnings };
  };
  const destroy = (client: Client) => new Promise<void>((resolve) => client.destroy(() => resolve()));

  /** A fetch announce, decoded; the raw query is escaped byte for byte like a client would. */
  const announce = async (url: string, params: Record<string, string>) => {
    const hex = (value: string) => value.replace(/../g, '%$&');
    const query = { port: '7000', left: '1', ...params, info_hash: hex(params.info_hash ?? infoHash), peer_id: hex(params.peer_id ?? peerId('fetch')) };
    const response = await fetch(`${url}?${Object.entries(query).map(([name, value]) => `${name}=${value}`).join('&')}`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    return bencode.decode(new Uint8Array(await response.arrayBuffer())) as Record<string, unknown>;
  };
  const text = (value: unknown) => Buffer.from(value as Uint8Array).toString();
  const swarmSize = async () => {
    const reply = await announce(urlFor('node-probe'), { peer_id: peerId('probe'), event: 'stopped', numwant: '0' });
    return (reply.complete as number) + (reply.incomplete as number);
  };

  it('lets two bittorrent-tracker clients find each other, without a bearer token', async () => {
    const a = startClient('node-a', 6881);
    await waitFor('node-a in the swarm', async () => (await swarmSize()) === 1);
    const b = startClient('node-b', 6882);
    await waitFor('node-b to hear of node-a', () => b.peers.has('127.0.0.1:6881'));
    a.client.update();
    await waitFor('node-a to hear of node-b', () => a.peers.has('127.0.0.1:6882'));
    assert.deepEqual([a.warnings, b.warnings], [[], []]);
    assert.equal(a.peers.size, 1, 'a peer is never handed itself');

    a.client.stop();
    await waitFor('node-a to leave on stopped', async () => (await swarmSize()) === 1);
    b.client.stop();
    await waitFor('node-b to leave on stopped', async () => (await swarmSize()) === 0);
    await Promise.all([destroy(a.client), destroy(b.client)]);
  });

  it('orders peers for a fleet node: same rack, same zone, the rest (an external client among the rest)', async () => {
    for (const [nodeId, port] of [['node-d', '7004'], ['node-c', '7003'], ['node-b', '7002']] as const) {
      await announce(urlFor(nodeId), { peer_id: peerId(nodeId), port });
    }
    await announce(urlFor(null), { peer_id: peerId('outsider'), port: '7009' });
    const reply = await announce(urlFor('node-a'), { peer_id: peerId('node-a'), port: '7001', compact: '0' });
    const peers = (reply.peers as Array<Record<string, unknown>>).map((peer) => [text(peer.ip), peer.port]);
    assert.deepEqual(peers.slice(0, 2), [['127.0.0.1', 7002], ['127.0.0.1', 7003]]);
    assert.deepEqual(new Set(peers.slice(2).map(([, port]) => port)), new Set([7004, 7009]));
    for (const [nodeId, port] of [['node-a', '7001'], ['node-b', '7002'], ['node-c', '7003'], ['node-d', '7004']] as const) {
      await announce(urlFor(nodeId), { peer_id: peerId(nodeId), port, event: 'stopped' });
    }
    await announce(urlFor(null), { peer_id: peerId('outsider'), port: '7009', event: 'stopped' });
    assert.equal(await swarmSize(), 0);
  });

  it('refuses a bad key and a foreign info_hash with a failure reason, changing nothing', async () => {
    const good = keys.issue({ transferId, nodeId: 'node-a' });
    const tampered = announceUrl(base, `${good.slice(0, 10)}${good[10] === 'x' ? 'y' : 'x'}${good.slice(11)}`);
    const badKey = await announce(tampered, { peer_id: peerId('node-a') });
    assert.equal(text(badKey['failure reason']), 'the announce key is not valid');
    const foreign = await announce(urlFor('node-a'), { peer_id: peerId('node-a'), info_hash: foreignHash });
    assert.match(text(foreign['failure reason']), /info_hash is not part of the transfer/);
    assert.equal(await swarmSize(), 0);

    // A real client is told too: it reports the reason as a warning and goes on.
    const c = startClient('node-c', 6883, foreignHash);
    await waitFor('the client to report the refusal', () => c.warnings.find((message) => /not part of the transfer/.test(message)));
    await destroy(c.client);
    assert.equal(await swarmSize(), 0);

    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /torrentedge_tracker_announces_total\{outcome="bad_key"\} 1/);
    assert.match(metrics, /torrentedge_tracker_announces_total\{outcome="info_hash_not_allowed"\} [2-9]/);
  });

  it('keeps bearer auth on every other route, and documents the tracker route as public', async () => {
    assert.equal((await fetch(`${base}/api/transfers`)).status, 401);
    const doc = (await (await fetch(`${base}/api/openapi.json`)).json()) as { paths: Record<string, { get?: { security?: unknown[] } }> };
    assert.deepEqual(doc.paths['/tracker/{key}/announce']?.get?.security, []);
  });

  it('serves an announce key for a node id of the maximum length (128)', async () => {
    const nodeId = `n${'x'.repeat(127)}`;
    const reply = await announce(urlFor(nodeId), { peer_id: peerId('long'), event: 'stopped' });
    assert.equal(reply['failure reason'], undefined);
  });
});
