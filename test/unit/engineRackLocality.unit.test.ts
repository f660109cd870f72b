import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Torrent, Wire } from 'webtorrent';
import { createRackLocality } from '../../src/engine/rackLocality.ts';

/** A wire as rack locality sees it: its handshakes and the pieces the peer holds. */
class FakeWire extends EventEmitter {
  destroyed = false;
  readonly peerId: string;
  readonly held: Set<number>;
  readonly extendedHandshake: Record<string, unknown> = {};
  readonly peerExtensions: { extended?: boolean };
  readonly peerPieces = { get: (index: number) => this.held.has(index) };
  constructor(peerId: string, options: { held?: number[]; extended?: boolean } = {}) {
    super();
    this.peerId = peerId;
    this.held = new Set(options.held);
    this.peerExtensions = { extended: options.extended ?? true };
  }
  /** The peer's extended handshake, as bittorrent-protocol emits it (bencoded strings arrive as bytes). */
  handshake(fields: Record<string, string | number>): this {
    this.emit('extended', 'handshake', Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, typeof value === 'number' ? value : new TextEncoder().encode(value)])));
    return this;
  }
}

/** A downloading segment: its wires, and the requests that reached webtorrent's own _request. */
function fakeSegment(wires: FakeWire[]) {
  const requested: [string, number][] = [];
  const torrent = Object.assign(new EventEmitter(), {
    infoHash: '00000000'.padEnd(40, 'a'),
    wires: wires as unknown as Wire[],
    destroyed: false,
    updates: 0,
    _update() {
      this.updates++;
    },
    _request: (wire: Wire, index: number) => {
      requested.push([wire.peerId, index]);
      return true;
    },
  }) as unknown as Torrent;
  return { torrent, requested, ask: (wire: FakeWire, index: number) => torrent._request(wire as unknown as Wire, index, false) };
}

/** Rack r1: this node m2 and its rack-mate m1, downloading a segment that x in r2 holds `farHeld` of. */
function mateAndFar(locality: ReturnType<typeof createRackLocality>, farHeld: number[]) {
  const mate = new FakeWire('m1');
  const far = new FakeWire('x', { held: farHeld });
  for (const wire of [mate, far]) locality.attach(wire as unknown as Wire, false);
  mate.handshake({ te_rack: 'r1' });
  far.handshake({ te_rack: 'r2' });
  const segment = fakeSegment([mate, far]);
  locality.guardRequests(segment.torrent);
  return { mate, far, segment };
}

describe('rack locality', () => {
  it('tells a super-seeding peer by its handshake, whether or not this node has a rack', () => {
    for (const own of [{}, { rack: 'r1' }]) {
      const locality = createRackLocality(own, 'me');
      const seed = new FakeWire('s');
      const leecher = new FakeWire('l');
      locality.attach(seed as unknown as Wire, false);
      locality.attach(leecher as unknown as Wire, false);
      seed.handshake({ te_seeding: 1 });
      leecher.handshake({});
      assert.deepEqual([locality.isSuperSeeder(seed as unknown as Wire), locality.isSuperSeeder(leecher as unknown as Wire)], [true, false], JSON.stringify(own));
    }
  });

  it('announces its rack and zone, and places each peer by the handshake it sends', () => {
    const locality = createRackLocality({ rack: 'r1', zone: 'z' }, 'me');
    const wire = (id: string, extended = true): FakeWire => {
      const w = new FakeWire(id, { extended });
      locality.attach(w as unknown as Wire, false);
      return w;
    };
    const mate = wire('mate');
    assert.deepEqual(mate.extendedHandshake, { te_rack: 'r1', te_zone: 'z' });
    assert.equal(locality.nearnessOf(mate as unknown as Wire), 'pending');
    mate.handshake({ te_rack: 'r1', te_zone: 'z' });
    const far = wire('far').handshake({ te_rack: 'r2', te_zone: 'z' });
    const otherZone = wire('other-zone').handshake({ te_rack: 'r1', te_zone: 'y' });
    const stock = wire('stock').handshake({});
    const noExtensions = wire('old', false);
    assert.deepEqual(
      [mate, far, otherZone, stock, noExtensions].map((w) => locality.nearnessOf(w as unknown as Wire)),
      ['near', 'far', 'far', 'unplaced', 'unplaced'],
    );
  });

  it('places no one when this node has no rack', () => {
    const locality = createRackLocality({}, 'me');
    const wire = new FakeWire('p');
    locality.attach(wire as unknown as Wire, false);
    wire.handshake({ te_rack: 'r1' });
    assert.equal(locality.nearnessOf(wire as unknown as Wire), 'unplaced');
    assert.deepEqual(wire.extendedHandshake, {});
  });

  it('takes a piece from outside the rack only when no rack-mate holds it and it is this node\'s to bring in', () => {
    let clock = 0;
    const locality = createRackLocality({ rack: 'r1' }, 'm2', { fetchAnywayMs: 30_000, now: () => clock });
    const near = [new FakeWire('m1', { held: [5] }), new FakeWire('m3')];
    const far = new FakeWire('x', { held: [0, 1, 2, 3, 4, 5] });
    for (const wire of [...near, far]) locality.attach(wire as unknown as Wire, false);
    for (const wire of near) wire.handshake({ te_rack: 'r1' });
    far.handshake({ te_rack: 'r2' });
    const segment = fakeSegment([...near, far]);
    locality.guardRequests(segment.torrent);
    // Members m1, m2, m3 in peer id order; the infohash's first 8 hex digits (0) shift nothing.
    assert.deepEqual([0, 1, 2, 3, 4, 5].map((index) => segment.ask(far, index)), [false, true, false, false, true, false]);
    assert.deepEqual(segment.requested, [['x', 1], ['x', 4]], 'pieces 1 and 4 are m2\'s; 5 is held by m1');
    assert.equal(segment.ask(near[0]!, 5), true, 'a rack-mate\'s wire is never held back');
    clock = 29_999;
    assert.equal(segment.ask(far, 0), false);
    clock = 30_000;
    assert.equal(segment.ask(far, 0), true, 'piece 0 waited 30 s for m1 to bring it in');
    segment.torrent.emit('verified', 3);
    clock = 60_000;
    assert.equal(segment.ask(far, 3), false, 'a piece verified is forgotten; asked again, its wait starts over');
  });

  it('brings nothing in while a rack-mate seeds the segment: it holds every piece, though it shows only what it offers', () => {
    let clock = 0;
    let starved = false;
    const locality = createRackLocality({ rack: 'r1' }, 'm2', { isStarved: () => starved, starvedFetchMs: 2000, now: () => clock });
    const seed = new FakeWire('m1', { held: [1] });
    const far = new FakeWire('x', { held: [0, 1, 2] });
    for (const wire of [seed, far]) locality.attach(wire as unknown as Wire, false);
    seed.handshake({ te_rack: 'r1', te_seeding: 1 });
    far.handshake({ te_rack: 'r2' });
    const segment = fakeSegment([seed, far]);
    locality.guardRequests(segment.torrent);
    assert.deepEqual([0, 1, 2].map((index) => segment.ask(far, index)), [false, false, false]);
    clock = 2000;
    assert.deepEqual([0, 1, 2].map((index) => segment.ask(far, index)), [false, false, false], 'the seed is yet to offer them');
    starved = true;
    assert.deepEqual([0, 1, 2].map((index) => segment.ask(far, index)), [true, false, true], 'starved for 2 s: fetched from outside, but for what the seed offers');
    const ours = new FakeWire('y');
    locality.attach(ours as unknown as Wire, true);
    assert.deepEqual(ours.extendedHandshake, { te_rack: 'r1', te_seeding: 1 });
  });

  it('fetches from outside after 2 s with nothing else to fetch, and asks again a second after a refusal', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      let starved = false;
      let clock = 0;
      const locality = createRackLocality({ rack: 'r1' }, 'm2', { isStarved: () => starved, recheckMs: 1000, starvedFetchMs: 2000, now: () => clock });
      const { far, segment } = mateAndFar(locality, [0]);
      assert.equal(segment.ask(far, 0), false, 'piece 0 is m1\'s to bring in');
      const updates = (): number => (segment.torrent as unknown as { updates: number }).updates;
      mock.timers.tick(999);
      assert.equal(updates(), 0);
      mock.timers.tick(1);
      assert.equal(updates(), 1, 'the segment asks again');
      starved = true;
      clock = 1999;
      assert.equal(segment.ask(far, 0), false, 'starved, but only for a moment');
      clock = 2000;
      assert.equal(segment.ask(far, 0), true, 'waited 2 s with nothing else to fetch: fetched from outside');
    } finally {
      mock.timers.reset();
    }
  });

  it('starved, still waits for a piece a rack-mate holds: the rack-mate serves it; only 30 s make it fetch from outside', () => {
    let clock = 0;
    const locality = createRackLocality({ rack: 'r1' }, 'm2', { isStarved: () => true, starvedFetchMs: 2000, fetchAnywayMs: 30_000, now: () => clock });
    const { mate, far, segment } = mateAndFar(locality, [0, 1]);
    assert.deepEqual([segment.ask(far, 0), segment.ask(far, 1)], [false, true], 'piece 0 is m1\'s to bring in, 1 is ours');
    clock = 1000;
    mate.held.add(0);
    clock = 2000;
    assert.equal(segment.ask(far, 0), false, 'm1 brought piece 0 in: it comes from m1, starved or not');
    assert.equal(segment.ask(mate, 0), true);
    mate.held.add(1);
    assert.equal(segment.ask(far, 1), false, 'piece 1 is ours, but a rack-mate has it now');
    clock = 30_000;
    assert.equal(segment.ask(far, 0), true, 'after 30 s it is fetched from outside anyway');
  });

  it('takes what a seed in another rack offers it, unless a rack-mate holds the piece already', () => {
    const locality = createRackLocality({ rack: 'r2' }, 'm1');
    const mate = new FakeWire('m2', { held: [1] });
    const seed = new FakeWire('s', { held: [0, 1, 2, 3] }); // what it offers, and so shows
    for (const wire of [mate, seed]) locality.attach(wire as unknown as Wire, false);
    mate.handshake({ te_rack: 'r2' });
    seed.handshake({ te_rack: 'r1', te_seeding: 1 });
    const segment = fakeSegment([mate, seed]);
    locality.guardRequests(segment.torrent);
    assert.deepEqual([0, 1, 2, 3].map((index) => segment.ask(seed, index)), [true, false, true, true], 'piece 3 is m2\'s to bring in, but the seed offered it here; m2 holds 1');
  });

  it('deals a rack-mate one share however many wires it has to this node', () => {
    const locality = createRackLocality({ rack: 'r1' }, 'm2');
    const twice = [new FakeWire('m1'), new FakeWire('m1')];
    const far = new FakeWire('x', { held: [0, 1, 2, 3] });
    for (const wire of [...twice, far]) locality.attach(wire as unknown as Wire, false);
    for (const wire of twice) wire.handshake({ te_rack: 'r1' });
    far.handshake({ te_rack: 'r2' });
    const segment = fakeSegment([...twice, far]);
    locality.guardRequests(segment.torrent);
    assert.deepEqual([0, 1, 2, 3].map((index) => segment.ask(far, index)), [false, true, false, true], 'members m1 and m2: every other piece is ours');
  });

  it('deals pieces afresh when a rack-mate leaves, and fetches freely alone in the rack', () => {
    const locality = createRackLocality({ rack: 'r1' }, 'm2');
    const { mate, far, segment } = mateAndFar(locality, [0, 1]);
    assert.deepEqual([segment.ask(far, 0), segment.ask(far, 1)], [false, true]);
    mate.destroyed = true;
    assert.deepEqual([segment.ask(far, 0), segment.ask(far, 1)], [true, true]);
  });
});
