import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import bencode from 'bencode';
import { Registry } from 'prom-client';
import { silentLogger } from '../../src/observability/logger.ts';
import { createAnnounceKeys } from '../../src/tracker/announceKey.ts';
import { announceIntervalSeconds, createTracker, defaultTrackerOptions } from '../../src/tracker/tracker.ts';
import { createTrackerMetrics } from '../../src/tracker/trackerMetrics.ts';

const transferId = '6d1c7a52-55a4-4b8e-9d51-2f3f0c9e8a10';
const infoHash = 'ff80c300412d2e5f7e2b2520fe0102037a5a3039';
const foreignHash = '00'.repeat(20);
const labels: Record<string, Record<string, string>> = {
  'node-a': { zone: 'z1', rack: 'r1' },
  'node-b': { zone: 'z1', rack: 'r1' },
  'node-c': { zone: 'z1', rack: 'r2' },
  'node-d': { zone: 'z2', rack: 'r1' },
};

const escape = (hex: string) => hex.replace(/../g, '%$&');
const peerIdOf = (name: string) => Buffer.from(name.padEnd(20, '-')).toString('hex');

function setup(options: { failingLookups?: boolean; swarms?: number } = {}) {
  const keys = createAnnounceKeys(Buffer.alloc(32, 1));
  const metrics = createTrackerMetrics(new Registry());
  const tracker = createTracker({
    keys,
    allowedInfoHashes: async (id) => {
      if (options.failingLookups) throw new Error('database is down');
      const others = Array.from({ length: (options.swarms ?? 1) - 1 }, (_, i) => i.toString(16).padStart(40, '0'));
      return id === transferId ? new Set([infoHash, ...others]) : undefined;
    },
    nodeLabels: async (nodeId) => labels[nodeId],
    metrics,
    logger: silentLogger(),
    now: () => 0,
    random: () => 0.5,
  });
  const announce = async (nodeId: string | null, ip: string, query: Record<string, string> = {}, key?: string) => {
    const params = { info_hash: escape(infoHash), peer_id: escape(peerIdOf(nodeId ?? `ext-${ip}`)), port: '6881', left: '1000', ...query };
    const rawUrl = `/tracker/k/announce?${Object.entries(params).map(([name, value]) => `${name}=${value}`).join('&')}`;
    const body = await tracker.announce({ key: key ?? keys.issue({ transferId, nodeId }), rawUrl, remoteAddress: ip });
    return bencode.decode(body) as Record<string, Uint8Array | number | Array<Record<string, unknown>>>;
  };
  const text = (value: unknown) => Buffer.from(value as Uint8Array).toString();
  const compactPeers = (value: unknown) => {
    const bytes = Buffer.from(value as Uint8Array);
    return Array.from({ length: bytes.length / 6 }, (_, i) => `${[...bytes.subarray(i * 6, i * 6 + 4)].join('.')}:${bytes.readUInt16BE(i * 6 + 4)}`);
  };
  const outcomes = async (): Promise<Record<string, number>> =>
    Object.fromEntries((await metrics.announcesTotal.get()).values.map((sample) => [String(sample.labels.outcome), sample.value]));
  return { keys, announce, text, compactPeers, outcomes };
}

describe('tracker announce', () => {
  it('answers a fleet node with the others, nearest first, never itself, from the socket address', async () => {
    const { announce, compactPeers } = setup();
    await announce('node-d', '10.0.4.1');
    await announce('node-c', '10.0.3.1');
    await announce('node-b', '10.0.2.1', { ip: '203.0.113.7' });
    await announce(null, '198.51.100.9');
    const reply = await announce('node-a', '10.0.1.1', { event: 'started' });
    assert.equal(reply.interval, 30);
    assert.equal(reply['min interval'], 10);
    assert.deepEqual([reply.complete, reply.incomplete], [0, 5]);
    const peers = compactPeers(reply.peers);
    assert.deepEqual(peers.slice(0, 2), ['10.0.2.1:6881', '10.0.3.1:6881'], 'same rack, then same zone; the ip parameter is ignored');
    assert.deepEqual(new Set(peers.slice(2)), new Set(['10.0.4.1:6881', '198.51.100.9:6881']));
  });

  it('re-announces a transfer of many segments less often, so it costs no more than one of sixteen', async () => {
    assert.deepEqual([1, 16, 32, 64, 200].map((swarms) => announceIntervalSeconds(defaultTrackerOptions, swarms)), [30, 30, 60, 120, 120]);
    const { announce } = setup({ swarms: 64 });
    const reply = await announce('node-a', '10.0.1.1', { event: 'started' });
    assert.equal(reply.interval, 120);
    assert.equal(reply['min interval'], 10);
  });

  it('answers with a list of dictionaries when compact=0, and IPv6 peers in peers6 when compact', async () => {
    const { announce, text, compactPeers } = setup();
    await announce('node-b', '::ffff:10.0.2.1');
    await announce('node-c', '2001:db8::3');
    const plain = await announce('node-a', '10.0.1.1', { compact: '0' });
    const list = plain.peers as Array<Record<string, unknown>>;
    assert.deepEqual(list.map((peer) => [text(peer.ip), peer.port, text(peer['peer id'])]), [
      ['10.0.2.1', 6881, 'node-b'.padEnd(20, '-')],
      ['2001:db8::3', 6881, 'node-c'.padEnd(20, '-')],
    ]);
    const compact = await announce('node-a', '10.0.1.1');
    assert.deepEqual(compactPeers(compact.peers), ['10.0.2.1:6881']);
    assert.equal(Buffer.from(compact.peers6 as Uint8Array).toString('hex'), '20010db8000000000000000000000003' + '1ae1');
  });

  it('refuses a bad key, a foreign info_hash, an unknown transfer and a malformed query, recording nothing', async () => {
    const { keys, announce, text, outcomes } = setup();
    const key = keys.issue({ transferId, nodeId: 'node-b' });
    const cases: Array<[Promise<Record<string, unknown>>, RegExp]> = [
      [announce('node-b', '10.0.2.1', {}, `${key.slice(0, -2)}AA`), /announce key is not valid/],
      [announce('node-b', '10.0.2.1', { info_hash: escape(foreignHash) }), /not part of the transfer/],
      [announce('node-b', '10.0.2.1', {}, keys.issue({ transferId: '00000000-0000-4000-8000-000000000000', nodeId: 'node-b' })), /transfer .* is unknown/],
      [announce('node-b', '10.0.2.1', { info_hash: '%ZZ' }), /percent-encoding/],
      [announce('node-b', '10.0.2.1', { port: '0' }), /port/],
    ];
    for (const [reply, reason] of cases) {
      const body = await reply;
      assert.match(text(body['failure reason']), reason);
      assert.equal(body.peers, undefined);
    }
    const after = await announce('node-a', '10.0.1.1');
    assert.deepEqual([after.complete, after.incomplete, Buffer.from(after.peers as Uint8Array).length], [0, 1, 0], 'only node-a is in the swarm');
    assert.deepEqual(await outcomes(), {
      ok: 1, bad_key: 1, malformed: 2, unknown_transfer: 1, info_hash_not_allowed: 1, peer_id_in_use: 0, swarm_full: 0, error: 0,
    });
  });

  it('masks a failing lookup as a retriable failure reason', async () => {
    const { announce, text, outcomes } = setup({ failingLookups: true });
    const reply = await announce('node-a', '10.0.1.1');
    assert.match(text(reply['failure reason']), /retry at the next interval/);
    assert.equal((await outcomes()).error, 1);
  });

  it('removes a peer that stopped and answers it with no peers', async () => {
    const { announce } = setup();
    await announce('node-b', '10.0.2.1');
    const stopped = await announce('node-a', '10.0.1.1', { event: 'stopped' });
    assert.equal(Buffer.from(stopped.peers as Uint8Array).length, 0);
    const seen = await announce('node-b', '10.0.2.1', { left: '0', event: 'completed' });
    assert.deepEqual([seen.complete, seen.incomplete, Buffer.from(seen.peers as Uint8Array).length], [1, 0, 0]);
  });
});
