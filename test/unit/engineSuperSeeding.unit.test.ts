import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Wire } from 'webtorrent';
import { createSuperSeeding } from '../../src/engine/superSeeding.ts';
import type { Nearness } from '../../src/engine/rackLocality.ts';

/** A wire as the super-seeder sees it: what the peer holds, and what was announced to it. */
class FakeWire extends EventEmitter {
  destroyed = false;
  readonly peerId: string;
  readonly held: Set<number>;
  readonly announced: number[] = [];
  sentBitfield: Uint8Array | undefined;
  readonly peerPieces = { get: (index: number) => this.held.has(index) };
  constructor(peerId: string, held: number[] = []) {
    super();
    this.peerId = peerId;
    this.held = new Set(held);
  }
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
  leaves(): void {
    this.destroyed = true;
    this.emit('close');
  }
  /** The peer asks for a block of a piece. */
  asksFor(index: number): void {
    this.emit('request', index, 0, 16384);
  }
}

type Segment = ReturnType<ReturnType<typeof createSuperSeeding>['segment']>;

const connect = (segment: Segment, peerId: string, options: { viaFast?: boolean; held?: number[] } = {}): FakeWire => {
  const wire = new FakeWire(peerId, options.held);
  segment.attach(wire as unknown as Wire);
  // What webtorrent does next for a segment held whole.
  if (options.viaFast ?? true) wire.haveAll();
  else wire.bitfield(new Uint8Array([0xff]));
  return wire;
};

/** Two offers per peer, however few the peers: what most cases below are about. */
const twoEach = { offersShared: 0 };

describe('super-seeding', () => {
  it('shares about twelve offers among the peers, at least two each, so that one peer alone is kept busy', () => {
    const seeding = createSuperSeeding();
    const a = seeding.segment(60);
    const p1 = connect(a, 'p1');
    assert.equal(p1.announced.length, 12, 'alone, p1 is offered twelve');
    const p2 = connect(a, 'p2');
    assert.deepEqual(p2.announced, [12, 13, 14, 15, 16, 17], 'two peers: six each');
    for (const index of p1.announced.slice(0, 6)) p1.gets(index);
    assert.equal(p1.announced.length, 12, 'p1 still has six outstanding');
    p1.gets(p1.announced[6]!);
    assert.deepEqual(p1.announced.slice(12), [18]);
    for (const id of ['p3', 'p4', 'p5', 'p6', 'p7']) connect(a, id);
    assert.equal(connect(a, 'p8').announced.length, 2, 'eight peers: the least, two');
  });

  it('announces no piece at first, then pieces no one else is offered, two per peer across segments', () => {
    const seeding = createSuperSeeding(twoEach);
    const a = seeding.segment(8);
    const wires = [connect(a, 'p1'), connect(a, 'p2', { viaFast: false }), connect(a, 'p3'), connect(a, 'p4')];
    for (const wire of wires) assert.deepEqual([...wire.sentBitfield!], [0], 'an empty bitfield');
    assert.deepEqual(wires.map((wire) => wire.announced), [[0, 1], [2, 3], [4, 5], [6, 7]]);
    const b = seeding.segment(4);
    assert.deepEqual(connect(b, 'p1').announced, [], 'p1 has two offers outstanding already');
    assert.deepEqual(connect(b, 'p5').announced, [0, 1]);
  });

  it('offers one more each time a peer announces an offered piece: the oldest segment first, and never a piece a peer holds', () => {
    const seeding = createSuperSeeding(twoEach);
    const a = seeding.segment(3);
    const b = seeding.segment(4);
    const p1a = connect(a, 'p1');
    const p1b = connect(b, 'p1');
    const p2a = connect(a, 'p2');
    const qb = connect(b, 'q', { held: [0] }); // holds piece 0 of b, got elsewhere
    assert.deepEqual([p1a.announced, p1b.announced, p2a.announced, qb.announced], [[0, 1], [], [2], [1, 2]]);
    p1a.gets(0);
    assert.deepEqual(p1b.announced, [3], 'a has nothing fresh left; of b, 0 is held and 1, 2 are offered');
    p2a.gets(2);
    assert.deepEqual(p2a.announced, [2], 'p2 is on no other segment, and a\'s pieces are placed');
    p1a.gets(2); // from p2, not offered: nothing owed
    p1a.gets(1);
    assert.deepEqual([p1a.announced, p1b.announced], [[0, 1], [3]], 'nothing fresh is left anywhere');
    const offered = [...p1a.announced.map((i) => `a${i}`), ...p1b.announced.map((i) => `b${i}`), ...p2a.announced.map((i) => `a${i}`), ...qb.announced.map((i) => `b${i}`)];
    assert.equal(new Set(offered).size, offered.length, 'no piece offered twice');
  });

  it('offers again what a departed peer was offered, and what only it held', () => {
    const seeding = createSuperSeeding(twoEach);
    const a = seeding.segment(4);
    const p1 = connect(a, 'p1');
    const p2 = connect(a, 'p2');
    assert.deepEqual([p1.announced, p2.announced], [[0, 1], [2, 3]]);
    p1.gets(0);
    assert.deepEqual(p1.announced, [0, 1], 'nothing fresh is left');
    p1.leaves();
    p2.gets(2);
    assert.deepEqual(p2.announced, [2, 3, 0], 'piece 0 is held by no one connected now');
    p2.gets(3);
    assert.deepEqual(p2.announced, [2, 3, 0, 1], 'piece 1 was p1\'s, unfinished');
  });

  it('gives a stalled peer a piece others hold, only once nothing fresh is left to give', () => {
    let clock = 0;
    const seeding = createSuperSeeding({ ...twoEach, stallMs: 5000, now: () => clock });
    const a = seeding.segment(3);
    const p1 = connect(a, 'p1', { held: [] });
    const p2 = connect(a, 'p2');
    assert.deepEqual([p1.announced, p2.announced], [[0, 1], [2]]);
    p1.gets(0);
    clock = 5500;
    p1.asksFor(1);
    p2.asksFor(2);
    clock = 6000;
    seeding.checkStalls();
    assert.deepEqual(p2.announced, [2], 'piece 1 is still with p1: p2 is waiting on the seed, not stalled');
    p1.gets(1);
    p2.gets(2);
    const p3 = connect(a, 'p3', { held: [0] });
    clock = 10_000;
    seeding.checkStalls();
    assert.deepEqual([p1.announced, p2.announced, p3.announced], [[0, 1], [2], []], 'each gained, or joined, 4 s ago');
    clock = 16_000;
    seeding.checkStalls();
    assert.deepEqual(p1.announced, [0, 1, 2], 'p1 lacks piece 2, held by p2 only');
    assert.deepEqual(p2.announced, [2, 1], 'p2 lacks 0, held by two, and 1, held by one');
    assert.deepEqual(p3.announced, [1], 'p3 lacks 1 and 2, each held by one peer: the first');
    seeding.checkStalls();
    assert.deepEqual([p1.announced.length, p2.announced.length, p3.announced.length], [3, 2, 1], 'a peer with an offer is not stalled');
  });


  it('never answers a stall with a piece still on its way to its offeree, until that offer is stallMs old', () => {
    let clock = 0;
    const seeding = createSuperSeeding({ ...twoEach, stallMs: 5000, now: () => clock });
    const a = seeding.segment(3);
    const p1 = connect(a, 'p1');
    const p3 = connect(a, 'p3');
    const p2 = connect(a, 'p2');
    assert.deepEqual([p1.announced, p3.announced, p2.announced], [[0, 1], [2], []]);
    p1.gets(0);
    p1.gets(1);
    clock = 4000;
    p3.leaves();
    assert.deepEqual(p1.announced, [0, 1, 2], 'piece 2 is fresh again, and on its way to p1');
    clock = 6000;
    seeding.checkStalls();
    assert.deepEqual(p2.announced, [0], 'p2 is stalled: it gets a piece p1 holds, not the one p1 is fetching');
    p2.gets(0);
    assert.deepEqual(p2.announced, [0, 1], 'fed: the next piece p1 holds, still not the one p1 is fetching');
    p2.gets(1);
    assert.deepEqual(p2.announced, [0, 1], 'nothing else is held');
    clock = 11_000;
    seeding.checkStalls();
    assert.deepEqual(p2.announced, [0, 1, 2], 'p1 has sat on piece 2 for 7 s: held by no one, it is the rarest');
  });

  it('feeds a stalled peer piece after piece until it gains one from elsewhere', () => {
    let clock = 0;
    const seeding = createSuperSeeding({ ...twoEach, stallMs: 5000, now: () => clock });
    const a = seeding.segment(8);
    // Holds everything, and serves no one: a stock client done with the segment, or a peer the other cannot reach.
    connect(a, 'done', { held: [0, 1, 2, 3, 4, 5, 6, 7] });
    const late = connect(a, 'late');
    assert.deepEqual(late.announced, [], 'nothing is fresh');
    clock = 5000;
    seeding.checkStalls();
    assert.deepEqual(late.announced, [0], 'stalled: a piece another holds');
    late.gets(0);
    assert.deepEqual(late.announced, [0, 1, 2], 'fed: two pieces at a time, without waiting for the next stall');
    late.gets(2);
    late.gets(1);
    assert.deepEqual(late.announced, [0, 1, 2, 3, 4]);
    late.gets(7); // from a source of its own
    late.gets(3);
    assert.deepEqual(late.announced, [0, 1, 2, 3, 4], 'no longer fed: it found another source');
    clock = 9000;
    seeding.checkStalls();
    assert.deepEqual(late.announced, [0, 1, 2, 3, 4], 'not stalled: its offer of piece 4 is 4 s old');
    clock = 10_000;
    seeding.checkStalls();
    assert.deepEqual(late.announced, [0, 1, 2, 3, 4, 5], 'stalled again (piece 4 offered 5 s ago, not asked for): the next rarest');
  });

  it('feeds a stalled peer held pieces only while the seed has no fresh one to give anyone', () => {
    let clock = 0;
    const seeding = createSuperSeeding({ ...twoEach, stallMs: 5000, now: () => clock });
    const held = [seeding.segment(2), seeding.segment(2)];
    for (const segment of held) connect(segment, 'done', { held: [0, 1] });
    const [lateA, lateC] = held.map((segment) => connect(segment, 'late'));
    clock = 5000;
    seeding.checkStalls();
    assert.deepEqual([lateA!.announced, lateC!.announced], [[0], [0]], 'stalled on both: fed');
    const fresh = seeding.segment(4);
    const lateB = connect(fresh, 'late');
    const other = connect(fresh, 'other');
    assert.deepEqual([lateB.announced, other.announced], [[], [0, 1]], 'late has its two offers already');
    clock = 11_000;
    lateA!.gets(0);
    assert.deepEqual(lateB.announced, [2], 'its stale offer of the other held segment still counts against the limit');
    assert.deepEqual(lateA!.announced, [0], 'piece 3 is fresh: no held piece goes out while it is');
  });

  it('keeps an offer that its offeree is still fetching from a stalled peer, however old', () => {
    let clock = 0;
    const seeding = createSuperSeeding({ ...twoEach, stallMs: 5000, now: () => clock });
    const a = seeding.segment(3);
    const q = connect(a, 'q');
    const holder = connect(a, 'holder', { held: [2] });
    const p = connect(a, 'p');
    assert.deepEqual([q.announced, holder.announced, p.announced], [[0, 1], [], []]);
    for (clock = 1000; clock <= 9000; clock += 2000) q.asksFor(0);
    clock = 9500;
    seeding.checkStalls();
    assert.deepEqual(p.announced, [1], 'q asked for piece 0 500 ms ago, and never for piece 1');
  });

  it('helps a stalled peer whose only offer its offeree has not asked for in stallMs', () => {
    let clock = 0;
    const seeding = createSuperSeeding({ ...twoEach, stallMs: 5000, now: () => clock });
    const a = seeding.segment(3);
    const b = seeding.segment(1);
    const pa = connect(a, 'p');
    const holder = connect(a, 'holder', { held: [0, 1, 2] });
    const pb = connect(b, 'p');
    assert.deepEqual([pa.announced, holder.announced, pb.announced], [[0, 1], [], []]);
    pa.gets(0);
    pa.gets(1);
    assert.deepEqual(pb.announced, [0], 'one offer of b is p\'s, and it never asks for it');
    clock = 6000;
    seeding.checkStalls();
    assert.deepEqual(pa.announced, [0, 1, 2], 'p lacks piece 2 of a, held by the holder');
  });

  it('keeps each peer fetching two pieces others hold once its transfer\'s last segment is here and nothing is fresh', () => {
    const seeding = createSuperSeeding(twoEach);
    const first = seeding.segment(4, 't');
    const early = connect(first, 'p2');
    const other = connect(first, 'p4');
    assert.deepEqual([early.announced, other.announced], [[0, 1], [2, 3]]);
    for (const index of [0, 1]) early.gets(index);
    for (const index of [2, 3]) other.gets(index);
    const p3 = connect(first, 'p3', { held: [3] });
    seeding.checkStalls();
    assert.deepEqual(p3.announced, [], 'the origin is still being read: the seed keeps its upload for fresh pieces');
    const last = seeding.segment(2, 't', { lastOfTransfer: true });
    const p1 = connect(last, 'p1');
    const p5 = connect(last, 'p5');
    assert.deepEqual([p1.announced, p5.announced], [[0, 1], []]);
    p1.gets(0);
    seeding.checkStalls();
    assert.deepEqual(p3.announced, [0, 1], 'two of the first segment\'s pieces that p3 lacks');
    assert.deepEqual(p5.announced, [0], 'of the last, piece 1 is still on its way to p1: not offered');
    seeding.checkStalls();
    assert.deepEqual(p3.announced, [0, 1], 'p3 is fetching two already');
    p3.gets(0);
    seeding.checkStalls();
    assert.deepEqual(p3.announced, [0, 1, 2], 'one more as one comes back');
  });

  it('counts a peer gaining pieces of any segment as not stalled', () => {
    let clock = 0;
    const seeding = createSuperSeeding({ ...twoEach, stallMs: 5000, now: () => clock });
    const a = seeding.segment(2);
    const b = seeding.segment(2);
    const holderA = connect(a, 'holder');
    const holderB = connect(b, 'holder');
    holderA.gets(0);
    holderA.gets(1);
    holderB.gets(0);
    holderB.gets(1);
    const qa = connect(a, 'q');
    const qb = connect(b, 'q');
    clock = 3000;
    qb.gets(0); // from the holder
    clock = 6000;
    seeding.checkStalls();
    assert.deepEqual([qa.announced, qb.announced], [[], []], 'q gained a piece of b 3 s ago');
    clock = 8000;
    seeding.checkStalls();
    assert.deepEqual([qa.announced, qb.announced], [[0], [1]], 'stalled: one piece of each segment it lacks');
  });
  it('frees a removed segment\'s offers for the others', () => {
    const seeding = createSuperSeeding(twoEach);
    const a = seeding.segment(2);
    const b = seeding.segment(2);
    const p1a = connect(a, 'p1');
    const p1b = connect(b, 'p1');
    assert.deepEqual([p1a.announced, p1b.announced], [[0, 1], []]);
    a.remove();
    assert.deepEqual(p1b.announced, [0, 1]);
  });

  it('gives fresh pieces to rack-mates first, to far peers only on a segment no rack-mate is on', () => {
    const places = new Map<string, Nearness>([['mate', 'near'], ['far', 'far'], ['new', 'pending']]);
    const seeding = createSuperSeeding({ ...twoEach, nearnessOf: (wire) => places.get(wire.peerId)! });
    const a = seeding.segment(6);
    const far = connect(a, 'far');
    assert.deepEqual(far.announced, [0, 1], 'no rack-mate on the segment yet');
    const mate = connect(a, 'mate');
    const fresh = connect(a, 'new');
    assert.deepEqual([mate.announced, fresh.announced], [[2, 3], []], 'a peer placed nowhere yet is offered nothing');
    far.gets(0);
    assert.deepEqual(far.announced, [0, 1], 'now a rack-mate is on it');
    places.set('new', 'unplaced');
    fresh.emit('extended', 'handshake', {});
    assert.deepEqual(fresh.announced, [0, 4], 'a peer without a place (a stock client) is offered like a rack-mate, piece 0 too: only the other rack holds it');
  });

  it('keeps a new segment from far peers for a while when rack-mates are on the transfer\'s others: they are about to join it', () => {
    let clock = 0;
    const places = new Map<string, Nearness>([['mate', 'near'], ['mate2', 'near'], ['far', 'far'], ['far2', 'far'], ['far3', 'far']]);
    const seeding = createSuperSeeding({ ...twoEach, farGraceMs: 5000, now: () => clock, nearnessOf: (wire) => places.get(wire.peerId)! });
    const first = seeding.segment(4, 't1');
    connect(first, 'mate');
    const other = seeding.segment(4, 't2');
    assert.deepEqual(connect(other, 'far2').announced, [0, 1], 'no rack-mate is on transfer t2');
    const second = seeding.segment(4, 't1');
    const far = connect(second, 'far');
    assert.deepEqual(far.announced, [], 'the rack-mate on t1 will join the new segment');
    clock = 4999;
    seeding.checkStalls();
    assert.deepEqual(far.announced, []);
    clock = 5000;
    seeding.checkStalls();
    assert.deepEqual(far.announced, [0, 1], 'the rack-mate did not come within 5 s: the far peer is offered pieces');
    const third = seeding.segment(4, 't1');
    const lateFar = connect(third, 'far3');
    const mate = connect(third, 'mate2');
    clock = 10_000;
    seeding.checkStalls();
    assert.deepEqual([lateFar.announced, mate.announced], [[], [0, 1]], 'a rack-mate came: the segment is its');
  });

  it('gives a rack-mate what only far peers hold, and far peers nothing that a far peer holds', () => {
    const places = new Map<string, Nearness>([['mate', 'near'], ['far1', 'far'], ['far2', 'far']]);
    const seeding = createSuperSeeding({ ...twoEach, nearnessOf: (wire) => places.get(wire.peerId)! });
    const a = seeding.segment(6);
    const far1 = connect(a, 'far1');
    assert.deepEqual(far1.announced, [0, 1], 'no rack-mate on the segment yet');
    far1.gets(0);
    far1.gets(1);
    const far2 = connect(a, 'far2');
    assert.deepEqual([far1.announced, far2.announced], [[0, 1, 2, 3], [4, 5]], 'far2 is offered none of what far1 holds');
    const mate = connect(a, 'mate');
    assert.deepEqual(mate.announced, [0, 1], 'pieces 0 and 1 are held only in the other rack: fetched from there, they would cross the uplink again');
    mate.gets(0);
    assert.deepEqual(mate.announced, [0, 1], 'no more fresh pieces: 2-5 are offered to far peers');
  });

  it('offers a rack-mate that ran dry what a far peer has just taken', () => {
    const places = new Map<string, Nearness>([['mate', 'near'], ['far', 'far']]);
    const seeding = createSuperSeeding({ ...twoEach, nearnessOf: (wire) => places.get(wire.peerId)! });
    const a = seeding.segment(4);
    const far = connect(a, 'far');
    const mate = connect(a, 'mate');
    assert.deepEqual([far.announced, mate.announced], [[0, 1], [2, 3]]);
    mate.gets(2);
    mate.gets(3);
    assert.deepEqual(mate.announced, [2, 3], 'nothing fresh: 0 and 1 are offered to the far peer');
    far.gets(0);
    assert.deepEqual(mate.announced, [2, 3, 0], 'only the other rack holds piece 0 now');
  });

  it('helps a stalled far peer when every piece is out, though no rack-mate holds any', () => {
    let clock = 0;
    const seeding = createSuperSeeding({ ...twoEach, stallMs: 5000, now: () => clock, nearnessOf: () => 'far' });
    const a = seeding.segment(2);
    const holder = connect(a, 'holder');
    holder.gets(0);
    holder.gets(1);
    const late = connect(a, 'late');
    assert.deepEqual(late.announced, [], 'holder has both');
    clock = 5000;
    seeding.checkStalls();
    assert.deepEqual(late.announced, [0], 'nothing fresh for a far peer: the stall check gives it one');
  });

  it('sends nothing before the bitfield', () => {
    const seeding = createSuperSeeding(twoEach);
    const a = seeding.segment(4);
    const wire = new FakeWire('p1');
    a.attach(wire as unknown as Wire);
    wire.gets(1);
    assert.deepEqual(wire.announced, []);
    wire.haveAll();
    assert.deepEqual(wire.announced, [0, 2]);
  });
});
