import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSwarmRegistry, type SwarmPeer } from '../../src/tracker/swarmRegistry.ts';

const hash = 'aa'.repeat(20);
const peer = (id: string, overrides: Partial<Omit<SwarmPeer, 'lastSeen'>> = {}): Omit<SwarmPeer, 'lastSeen'> => ({
  peerId: id.padEnd(40, '0'),
  ip: '10.0.0.1',
  port: 6881,
  nodeId: `node-${id}`,
  locality: {},
  left: 100,
  ...overrides,
});

function registry(options: { maxPeersPerSwarm?: number } = {}) {
  let now = 1_000_000;
  const swarm = createSwarmRegistry({ now: () => now }, { peerTtlMs: 60_000, maxPeersPerSwarm: options.maxPeersPerSwarm ?? 100 });
  return { swarm, advance: (ms: number) => void (now += ms) };
}
const ids = (peers: SwarmPeer[]) => peers.map((p) => p.peerId.slice(0, 1)).sort();

describe('swarm registry', () => {
  it('keeps a peer for the TTL after its last announce, then forgets it', () => {
    const { swarm, advance } = registry();
    swarm.announce(hash, peer('a'), 'started');
    advance(30_000);
    swarm.announce(hash, peer('b', { ip: '10.0.0.2' }), 'started');
    advance(29_999);
    assert.deepEqual(ids(swarm.peersOf(hash)), ['a', 'b']);
    advance(1);
    assert.deepEqual(ids(swarm.peersOf(hash)), ['b'], 'a expired 60 s after its announce');
    swarm.announce(hash, peer('b', { ip: '10.0.0.2' }), 'empty');
    advance(59_999);
    assert.deepEqual(ids(swarm.peersOf(hash)), ['b'], 're-announcing renews');
    advance(1);
    assert.deepEqual(swarm.peersOf(hash), []);
    assert.equal(swarm.peerCount(), 0, 'an empty swarm is forgotten');
  });

  it('forgets swarms nobody announces to any more at the next sweep', () => {
    const { swarm, advance } = registry();
    swarm.announce(hash, peer('a'), 'started');
    advance(120_000);
    swarm.announce('bb'.repeat(20), peer('b'), 'started');
    assert.equal(swarm.peerCount(), 1);
  });

  it('removes a peer on stopped and counts seeders, leechers and completed events', () => {
    const { swarm } = registry();
    swarm.announce(hash, peer('a'), 'started');
    swarm.announce(hash, peer('b', { ip: '10.0.0.2' }), 'started');
    swarm.announce(hash, peer('a', { left: 0 }), 'completed');
    assert.deepEqual(swarm.stats(hash), { complete: 1, incomplete: 1, downloaded: 1 });
    assert.equal(swarm.announce(hash, peer('b', { ip: '10.0.0.2' }), 'stopped'), 'recorded');
    assert.deepEqual(swarm.stats(hash), { complete: 1, incomplete: 0, downloaded: 1 });
    assert.deepEqual(swarm.stats('cc'.repeat(20)), { complete: 0, incomplete: 0, downloaded: 0 });
  });

  it('does not let another node or host replace or stop a live peer id', () => {
    const { swarm, advance } = registry();
    swarm.announce(hash, peer('a'), 'started');
    assert.equal(swarm.announce(hash, peer('a', { ip: '10.0.0.66' }), 'stopped'), 'peer_id_in_use');
    assert.equal(swarm.announce(hash, peer('a', { nodeId: 'node-x' }), 'empty'), 'peer_id_in_use');
    assert.equal(swarm.peersOf(hash)[0]!.ip, '10.0.0.1');
    advance(60_000);
    assert.equal(swarm.announce(hash, peer('a', { ip: '10.0.0.66' }), 'started'), 'recorded', 'once expired, the id is free');
  });

  it('refuses new peers beyond the per-swarm bound, but still takes re-announces', () => {
    const { swarm } = registry({ maxPeersPerSwarm: 2 });
    swarm.announce(hash, peer('a'), 'started');
    swarm.announce(hash, peer('b'), 'started');
    assert.equal(swarm.announce(hash, peer('c'), 'started'), 'swarm_full');
    assert.equal(swarm.announce(hash, peer('a'), 'empty'), 'recorded');
    assert.deepEqual(ids(swarm.peersOf(hash)), ['a', 'b']);
  });
});
