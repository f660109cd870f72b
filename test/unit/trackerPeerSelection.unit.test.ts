import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { localityOf, orderByLocality } from '../../src/tracker/peerSelection.ts';
import type { Locality } from '../../src/tracker/swarmRegistry.ts';

/** A deterministic stand-in for Math.random (a linear congruential generator). */
const seeded = (seed: number) => () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);

const peer = (name: string, locality: Locality) => ({ name, locality });
const candidates = [
  peer('other-1', { zone: 'z2', rack: 'r9' }),
  peer('zone-1', { zone: 'z1', rack: 'r2' }),
  peer('rack-1', { zone: 'z1', rack: 'r1' }),
  peer('external-1', {}),
  peer('rack-2', { zone: 'z1', rack: 'r1' }),
  peer('zone-2', { zone: 'z1' }),
  peer('other-2', { zone: 'z2', rack: 'r1' }), // rack r1, but in another zone: a different rack
  peer('rack-3', { zone: 'z1', rack: 'r1' }),
];
const group = (name: string) => name.replace(/-\d+$/, '');

describe('peer selection by locality', () => {
  const requester = { zone: 'z1', rack: 'r1' };

  it('puts the same rack first, then the same zone, then the rest (external peers among them)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const ordered = orderByLocality(requester, candidates, 50, seeded(seed)).map((p) => p.name);
      assert.equal(ordered.length, candidates.length);
      assert.deepEqual(ordered.slice(0, 3).map(group), ['rack', 'rack', 'rack']);
      assert.deepEqual(ordered.slice(3, 5).map(group), ['zone', 'zone']);
      assert.deepEqual(new Set(ordered.slice(5)), new Set(['other-1', 'other-2', 'external-1']));
    }
  });

  it('is random within a group', () => {
    const firsts = new Set<string>();
    for (let seed = 1; seed <= 30; seed++) firsts.add(orderByLocality(requester, candidates, 50, seeded(seed))[0]!.name);
    assert.deepEqual(firsts, new Set(['rack-1', 'rack-2', 'rack-3']));
  });

  it('truncates to the limit, nearest groups kept', () => {
    const ordered = orderByLocality(requester, candidates, 4, seeded(3));
    assert.equal(ordered.length, 4);
    assert.deepEqual(ordered.map((p) => group(p.name)), ['rack', 'rack', 'rack', 'zone']);
    assert.deepEqual(orderByLocality(requester, candidates, 0, seeded(3)), []);
  });

  it('gives an external client (no labels) everyone in a random order', () => {
    const orders = new Set<string>();
    for (let seed = 1; seed <= 10; seed++) {
      const ordered = orderByLocality({}, candidates, 50, seeded(seed));
      assert.equal(ordered.length, candidates.length);
      orders.add(ordered.map((p) => p.name).join());
    }
    assert.ok(orders.size > 1);
  });

  it('keeps only the rack and zone labels of a node', () => {
    assert.deepEqual(localityOf({ rack: 'r1', zone: 'z1', gpu: 'h100' }), { rack: 'r1', zone: 'z1' });
    assert.deepEqual(localityOf(undefined), {});
  });
});
