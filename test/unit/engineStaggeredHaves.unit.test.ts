import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Torrent, Wire } from 'webtorrent';
import { staggerHaves } from '../../src/engine/staggeredHaves.ts';

/** A wire as the stagger sees it: what the peer holds, and the HAVEs sent to it. */
class FakeWire extends EventEmitter {
  destroyed = false;
  readonly held = new Set<number>();
  readonly told: number[] = [];
  readonly peerPieces = { get: (index: number) => this.held.has(index) };
  readonly name: string;
  constructor(name: string) {
    super();
    this.name = name;
  }
  have(index: number): void {
    this.told.push(index);
  }
  /** The peer got the piece (from anyone) and announces it. */
  gets(index: number): void {
    this.held.add(index);
    this.emit('have', index);
  }
  asksFor(index: number): void {
    this.emit('request', index, 0, 16384);
  }
  leaves(): void {
    this.destroyed = true;
    this.emit('close');
  }
}

function setUp(options: Parameters<typeof staggerHaves>[1] = {}, names = ['a', 'b', 'c', 'd']) {
  let clock = 0;
  const torrent = new EventEmitter() as unknown as Torrent;
  const haves = staggerHaves(torrent, { idleMs: 500, now: () => clock, ...options });
  const wires = names.map((name) => new FakeWire(name));
  for (const wire of wires) haves.attach(wire as unknown as Wire);
  /** What webtorrent does once a piece is stored: have() on every wire. */
  const stored = async (index: number): Promise<void> => {
    for (const wire of wires) wire.have(index);
    await Promise.resolve();
  };
  const tick = (ms: number): void => {
    clock += ms;
  };
  return { torrent, haves, wires, stored, tick };
}

const toldOf = (wires: FakeWire[], index: number): string[] => wires.filter((wire) => wire.told.includes(index)).map((wire) => wire.name);

describe('staggered HAVEs', () => {
  it('tells two peers of a new piece, then one more each time a told peer announces it back', async () => {
    const { wires, stored, torrent } = setUp();
    await stored(7);
    assert.deepEqual(toldOf(wires, 7), ['a', 'b']);
    wires[0]!.gets(7);
    assert.deepEqual(toldOf(wires, 7), ['a', 'b', 'c']);
    torrent.emit('close');
  });

  it('never tells a peer that got the piece elsewhere', async () => {
    const { wires, stored, haves, torrent } = setUp();
    await stored(1);
    wires[3]!.gets(1); // from another holder
    wires[0]!.gets(1);
    wires[1]!.gets(1);
    assert.deepEqual(toldOf(wires, 1), ['a', 'b', 'c']);
    wires[2]!.gets(1);
    assert.equal(haves.spreadingCount(), 0, 'every peer holds it');
    torrent.emit('close');
  });

  it('tells the next peer when a told one asks for none of the piece within idleMs, not while it asks', async () => {
    const { wires, stored, tick, haves, torrent } = setUp();
    await stored(3);
    tick(400);
    wires[0]!.asksFor(3);
    tick(200);
    haves.checkIdle();
    assert.deepEqual(toldOf(wires, 3), ['a', 'b', 'c'], 'b asked for nothing in 600 ms; a asked 200 ms ago');
    tick(400);
    haves.checkIdle();
    assert.deepEqual(toldOf(wires, 3), ['a', 'b', 'c', 'd'], 'a has asked for nothing since, c was told 400 ms ago');
    torrent.emit('close');
  });

  it('tells a super-seeding seed once its handshake says so, though the piece was queued for it before', async () => {
    let known = false;
    const { wires, stored, haves, torrent } = setUp({ fanout: 1, tellAtOnce: (wire) => known && (wire as unknown as FakeWire).name === 'd' });
    await stored(5);
    assert.deepEqual(toldOf(wires, 5), ['a']);
    known = true;
    wires[3]!.held.add(5); // the seed offers piece 5: its bitfield shows it
    haves.checkIdle();
    assert.deepEqual(toldOf(wires, 5), ['a', 'd'], 'the seed counts its offers by the HAVEs it gets back');
    torrent.emit('close');
  });

  it('frees a departed told peer\'s place at once', async () => {
    const { wires, stored, torrent } = setUp();
    await stored(4);
    wires[1]!.leaves();
    assert.deepEqual(toldOf(wires, 4), ['a', 'b', 'c']);
    torrent.emit('close');
  });

  it('tells a super-seeding seed at once: it offers more when its offers are announced back', async () => {
    const { wires, stored, torrent } = setUp({ fanout: 1, tellAtOnce: (wire) => (wire as unknown as FakeWire).name === 'd' });
    await stored(5);
    assert.deepEqual(toldOf(wires, 5), ['a', 'd']);
    torrent.emit('close');
  });

  it('tells everyone in the end, as told peers get the piece', async () => {
    const { wires, stored, haves, torrent } = setUp({ fanout: 1 });
    await stored(2);
    for (let i = 0; i < wires.length; i++) {
      assert.deepEqual(toldOf(wires, 2), wires.slice(0, i + 1).map((wire) => wire.name));
      wires[i]!.gets(2);
    }
    assert.equal(haves.spreadingCount(), 0);
    torrent.emit('close');
  });
});
