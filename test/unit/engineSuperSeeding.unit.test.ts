import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Wire } from 'webtorrent';
import { createSuperSeeder } from '../../src/engine/superSeeding.ts';

/** A wire as the super-seeder sees it: what the peer holds, and what was announced to it. */
class FakeWire extends EventEmitter {
  destroyed = false;
  readonly held = new Set<number>();
  readonly announced: number[] = [];
  sentBitfield: Uint8Array | undefined;
  readonly peerPieces = { get: (index: number) => this.held.has(index) };
  have(index: number): void {
    this.announced.push(index);
  }
  haveAll(): void {
    throw new Error('the super-seeder should have replaced haveAll');
  }
  bitfield(bitfield: Uint8Array): void {
    this.sentBitfield = bitfield;
  }
  /** The peer announces a piece it now holds. */
  gets(index: number): void {
    this.held.add(index);
    this.emit('have', index);
  }
}

const connect = (seeder: ReturnType<typeof createSuperSeeder>, viaFast = true): FakeWire => {
  const wire = new FakeWire();
  seeder.attach(wire as unknown as Wire);
  // What webtorrent does next for a segment held whole.
  if (viaFast) wire.haveAll();
  else wire.bitfield(new Uint8Array([0xff]));
  return wire;
};

describe('super-seeding', () => {
  it('announces no piece at first, then a few, different ones to each peer while pieces last', () => {
    const seeder = createSuperSeeder({ pieceCount: 8 });
    const wires = [connect(seeder), connect(seeder, false), connect(seeder), connect(seeder)];
    for (const wire of wires) assert.deepEqual([...wire.sentBitfield!], [0], 'an empty bitfield');
    assert.deepEqual(wires.map((wire) => wire.announced), [[0, 1], [2, 3], [4, 5], [6, 7]]);
  });

  it('offers a peer one more piece each time it gets one it was offered, never one it holds', () => {
    const seeder = createSuperSeeder({ pieceCount: 6 });
    const a = connect(seeder);
    const b = connect(seeder);
    b.gets(5); // from a peer other than the seed, before the seed offers it
    a.gets(0);
    assert.deepEqual(a.announced, [0, 1, 4], 'piece 4: offered least, 5 is held by b');
    a.gets(3); // not offered: got elsewhere, so nothing new is owed
    assert.deepEqual(a.announced, [0, 1, 4]);
    a.gets(1);
    a.gets(4);
    assert.deepEqual(a.announced, [0, 1, 4, 2, 5], 'then the pieces fewest peers hold, offered or not');
    assert.ok(a.announced.every((index, i) => a.announced.indexOf(index) === i), 'no piece twice');
  });

  it('keeps a peer offered a piece it lacks until it lacks none, so it never waits on others', () => {
    const seeder = createSuperSeeder({ pieceCount: 4, offersPerPeer: 1 });
    const a = connect(seeder);
    const b = connect(seeder);
    for (const index of [1, 2, 3]) a.gets(index); // a got everything but its offer... and more
    assert.ok(!a.held.has(a.announced.at(-1)!), 'a still has an offer it lacks');
    a.gets(a.announced.at(-1)!);
    assert.deepEqual(a.announced, [0], 'a lacks nothing: no further offer');
    assert.deepEqual(b.announced, [1]);
    b.gets(1);
    assert.deepEqual(b.announced, [1, 2], 'all b lacks is held by a: the piece offered fewest times');
  });

  it('offers again first what a departed peer was offered and did not finish', () => {
    const seeder = createSuperSeeder({ pieceCount: 4 });
    const a = connect(seeder);
    const b = connect(seeder);
    assert.deepEqual([a.announced, b.announced], [[0, 1], [2, 3]]);
    b.destroyed = true;
    b.emit('close');
    const c = connect(seeder);
    assert.deepEqual(c.announced, [2, 3]);
  });

  it('sends nothing before the bitfield', () => {
    const seeder = createSuperSeeder({ pieceCount: 4 });
    const wire = new FakeWire();
    seeder.attach(wire as unknown as Wire);
    wire.gets(1);
    assert.deepEqual(wire.announced, []);
    wire.haveAll();
    assert.deepEqual(wire.announced, [0, 2]);
  });
});
