import type { Wire } from 'webtorrent';
import type { Nearness } from './rackLocality.ts';

/**
 * Offers a peer may have outstanding at a time, across every segment: at least two, which keep
 * the seed's link to a peer busy while the peer's request for the next one crosses it, and
 * about twelve shared among the peers, so that a seed with few peers keeps enough pieces coming:
 * with one peer and two offers, bench pair had two 1 MiB pieces in flight and ran at 0.46× its
 * baseline. Each offer is of a piece no one else is offered, so more offers bring no duplicates.
 */
const defaultMinOffersPerPeer = 2;
const defaultOffersShared = 12;

/**
 * How long a peer may go without a new piece of a segment, holding no offer of it, before the seed
 * offers it one that others already hold: a liveness guarantee (say the only holder of a piece is
 * a peer it cannot reach), not a source of speed.
 */
const defaultStallMs = 5_000;

/**
 * How long a new segment's fresh pieces wait for a rack-mate that is on other segments of the same
 * transfer, before far peers are offered them: rack-mates join a segment once their next poll of
 * the manifest lists it, far peers may get there first, and what the seed gives them it gives its
 * own rack again (isSpread), one more upload from the seed's link: without the wait the seed
 * uploaded 1.23 and 1.30 F instead of 1.09 and 1.03 (bench fleet, 2 racks, interleaved pairs).
 * A bound on the wait, not a source of speed.
 */
const defaultFarGraceMs = 5_000;

/** One peer's wire on one segment, as the super-seeder tracks it. */
interface PeerSegment {
  readonly wire: Wire;
  readonly segment: SegmentState;
  /** Offered and not yet announced back by the peer: piece index, and when it was offered or the peer last asked for a block of it. */
  readonly offered: Map<number, number>;
  /** Set once the empty bitfield went out: nothing may be announced before it. */
  announced: boolean;
  /** When the peer last announced a piece of this segment (or was last helped with a stall). */
  lastGainMs: number;
}

interface SegmentState {
  readonly pieceCount: number;
  /** The transfer it belongs to, when told: its segments share rack-mates. */
  readonly transferId: string | undefined;
  readonly addedMs: number;
  readonly wires: Set<PeerSegment>;
  /** Per piece: how many wires it is offered on now. */
  readonly offers: Uint16Array;
  /** Per piece: known to be held by a connected peer in this node's rack or placed nowhere (cleared when a holder leaves). */
  readonly spread: Uint8Array;
  /** Pieces not known to be spread or offered; 0 lets a scan skip the segment. */
  unplaced: number;
}

/**
 * Super-seeding (BEP 16's idea) for the segments this node holds whole, coordinated across them.
 * With every piece announced at once, all leechers ask the seed for the same rarest pieces, and
 * the seed uploads each one several times: bench fleet measured 2.2–3.4 F from the seed at 8 nodes,
 * which makes the seed's link the bottleneck, since the lower bound is F over that link.
 *
 * Instead each peer sees an empty bitfield, then HAVE for pieces that no connected peer holds and
 * none is offered: each such piece goes to exactly one peer, and the others get it from that peer.
 * A peer is offered a few at a time, over all segments together (oldest segment first),
 * and one more each time it announces an offered piece. Pieces others already hold are not offered
 * while any is fresh: sending them again is what made the seed the bottleneck. Once none is, a
 * stalled peer and the tail after the origin's last byte get held ones (checkStalls). A piece whose
 * offeree or whose only holder leaves is offered again. Requests are still served for any piece.
 */
export function createSuperSeeding(
  options: { minOffersPerPeer?: number; offersShared?: number; stallMs?: number; farGraceMs?: number; now?: () => number; nearnessOf?: (wire: Wire) => Nearness } = {},
) {
  const minPerPeer = options.minOffersPerPeer ?? defaultMinOffersPerPeer;
  const shared = options.offersShared ?? defaultOffersShared;
  const nearnessOf = options.nearnessOf ?? ((): Nearness => 'unplaced');
  const stallMs = options.stallMs ?? defaultStallMs;
  const farGraceMs = options.farGraceMs ?? defaultFarGraceMs;
  const now = options.now ?? Date.now;
  const segments = new Set<SegmentState>();
  /** Transfers whose last segment this node seeds: the origin has been read to its end. */
  const readToEnd = new Set<string>();
  /** A remote peer's wires, one per segment, by peer id. */
  const peers = new Map<string, Set<PeerSegment>>();
  /**
   * Peers a stall was answered for, by peer id: while nothing is fresh, each piece they announce of
   * those offered brings the next held ones (offerHeld), until they announce one the seed did not
   * offer, from a source of their own. One piece per stall was one per stallMs: a stock client that
   * could reach only the seed, beside one holding everything, took 5 s a piece. (A peer that
   * fetched an offered piece from someone else stays fed too: it costs the seed no more than the
   * stall answers it replaces.)
   */
  const fed = new Set<string>();

  /** A wire the bitfield went out on and still open: one to offer pieces on, or to count as there. */
  const isLive = (peer: PeerSegment): boolean => peer.announced && !peer.wire.destroyed;

  const outstanding = (peerId: string): number => {
    let count = 0;
    for (const wire of peers.get(peerId) ?? []) count += wire.offered.size;
    return count;
  };

  /**
   * Whether a connected peer outside other racks holds the piece; remembered, since holding only
   * ends with a wire. A piece only far peers hold is still to be given to the rack: fetched back
   * from them, it would cross the uplink twice (far peers can get a segment's first pieces before
   * any rack-mate is on it).
   */
  const isSpread = (segment: SegmentState, index: number): boolean => {
    if (segment.spread[index] === 1) return true;
    for (const peer of segment.wires) {
      if (nearnessOf(peer.wire) !== 'far' && peer.wire.peerPieces.get(index)) {
        segment.spread[index] = 1;
        if (segment.offers[index] === 0) segment.unplaced--;
        return true;
      }
    }
    return false;
  };

  const offer = (peer: PeerSegment, index: number): void => {
    const { segment } = peer;
    if (segment.offers[index] === 0 && segment.spread[index] === 0) segment.unplaced--;
    segment.offers[index]!++;
    peer.offered.set(index, now());
    peer.wire.have(index);
  };

  /** Whether the piece is fresh again: offered to no one else and held by no one in the rack. */
  const withdraw = (peer: PeerSegment, index: number): boolean => {
    const { segment } = peer;
    peer.offered.delete(index);
    segment.offers[index]!--;
    const fresh = segment.offers[index] === 0 && segment.spread[index] === 0;
    if (fresh) segment.unplaced++;
    return fresh;
  };

  const heldByFarPeer = (segment: SegmentState, index: number): boolean => {
    for (const peer of segment.wires) if (nearnessOf(peer.wire) === 'far' && peer.wire.peerPieces.get(index)) return true;
    return false;
  };

  /** The lowest piece offered to no one and held by no peer in this rack (for a far peer: by no peer at all), or -1. */
  const freshPiece = (segment: SegmentState, forFarPeer = false): number => {
    if (segment.unplaced === 0) return -1;
    for (let index = 0; index < segment.pieceCount; index++) {
      if (segment.offers[index] === 0 && !isSpread(segment, index) && !(forFarPeer && heldByFarPeer(segment, index))) return index;
    }
    return -1;
  };

  const hasLiveRackMate = (segment: SegmentState): boolean => {
    for (const other of segment.wires) if (isLive(other) && nearnessOf(other.wire) === 'near') return true;
    return false;
  };

  /**
   * Fresh pieces go to this node's rack first: a piece given to a peer outside it crosses the
   * rack's uplink out, and back in for the rack-mates (rackLocality.ts). Far peers are offered
   * pieces only of a segment no rack-mate is on, and of a new one only after farGraceMs while
   * rack-mates are on the transfer's other segments; a peer whose place is not known yet, nothing.
   */
  const mayOffer = (peer: PeerSegment): boolean => {
    const nearness = nearnessOf(peer.wire);
    if (nearness === 'pending') return false;
    if (nearness !== 'far') return true;
    const { segment } = peer;
    if (hasLiveRackMate(segment)) return false;
    if (segment.transferId === undefined || now() - segment.addedMs >= farGraceMs) return true;
    for (const other of segments) if (other.transferId === segment.transferId && other !== segment && hasLiveRackMate(other)) return false;
    return true;
  };

  /** Tops the peer's offers up to the limit with fresh pieces, oldest segment first. */
  const offerMore = (peerId: string): void => {
    const wires = peers.get(peerId);
    if (wires === undefined) return;
    let free = Math.max(minPerPeer, Math.ceil(shared / peers.size)) - outstanding(peerId);
    for (const segment of segments) {
      if (free <= 0) return;
      // A duplicate connection may be closing beside its replacement: take the live one.
      let peer: PeerSegment | undefined;
      for (const candidate of wires) if (candidate.segment === segment && isLive(candidate)) peer = candidate;
      if (peer === undefined || !mayOffer(peer)) continue;
      const far = nearnessOf(peer.wire) === 'far';
      for (let index = freshPiece(segment, far); index !== -1 && free > 0; index = freshPiece(segment, far)) {
        offer(peer, index);
        free--;
      }
    }
  };

  const offerEveryone = (): void => {
    for (const peerId of peers.keys()) offerMore(peerId);
  };

  /** Whether a connected peer the seed may offer pieces to has a fresh one to be offered (a segment no one is on counts for nothing). */
  const hasFresh = (): boolean =>
    [...segments].some((segment) => [...segment.wires].some((peer) => isLive(peer) && mayOffer(peer) && freshPiece(segment, nearnessOf(peer.wire) === 'far') !== -1));

  /** Offers the peer asked for (or was made) within stallMs: the ones it is fetching. */
  const activeOffers = (peerId: string, at: number): number => {
    let count = 0;
    for (const wire of peers.get(peerId) ?? []) for (const since of wire.offered.values()) if (at - since < stallMs) count++;
    return count;
  };

  /**
   * Called while nothing is fresh. Once a transfer's origin was read to its end, the seed's upload
   * has no new piece left to carry: it serves the tail beside the leechers instead of idling (bench fleet
   * at 1 GiB: the last node 15-17 s after the origin's last byte, against 22-31 s while it idled).
   * Each peer is kept fetching up to minPerPeer pieces from it, the ones it lacks that the fewest
   * others hold, a few at a time: shown every piece at once, every peer reserved some with the
   * seed, fetched them at a fifteenth of its link, and waited on them (16 nodes at 25 Mbit/s:
   * 72-76 s, against 65-67 s without).
   */
  const supplyOpened = (at: number): void => {
    for (const peerId of peers.keys()) {
      offerHeld(peerId, at, ({ segment }) => segment.transferId !== undefined && readToEnd.has(segment.transferId));
    }
  };

  /** The piece the peer lacks that the fewest other connected peers hold (one at least), or -1; an offer not asked for within stallMs counts as held by no one. */
  const rarestHeldPiece = (peer: PeerSegment, at: number): number => {
    const { segment } = peer;
    let best = -1;
    let bestHolders = Infinity;
    for (let index = 0; index < segment.pieceCount; index++) {
      if (peer.wire.peerPieces.get(index) || peer.offered.has(index)) continue;
      let holders = 0;
      let staleOffer = false;
      for (const other of segment.wires) {
        if (other.wire.peerPieces.get(index)) holders++;
        const offeredAt = other.offered.get(index);
        if (offeredAt !== undefined && at - offeredAt >= stallMs) staleOffer = true;
      }
      if (holders === 0 && !staleOffer) continue;
      if (holders < bestHolders) [best, bestHolders] = [index, holders];
    }
    return best;
  };

  /**
   * Tops the peer's active offers up to minPerPeer with the pieces it lacks that the fewest others
   * hold, on the segments `eligible` accepts: while nothing is fresh, the seed's upload is free.
   */
  const offerHeld = (peerId: string, at: number, eligible: (peer: PeerSegment) => boolean): void => {
    let active = activeOffers(peerId, at);
    for (const peer of peers.get(peerId) ?? []) {
      if (active >= minPerPeer) return;
      if (!isLive(peer) || !eligible(peer)) continue;
      for (let best = rarestHeldPiece(peer, at); best !== -1 && active < minPerPeer; best = rarestHeldPiece(peer, at)) {
        offer(peer, best);
        active++;
      }
    }
  };

  const detach = (peer: PeerSegment): void => {
    const { segment } = peer;
    if (!segment.wires.delete(peer)) return;
    for (const index of [...peer.offered.keys()]) withdraw(peer, index);
    // What it held may now be held by no one.
    for (let index = 0; index < segment.pieceCount; index++) {
      if (segment.spread[index] === 1 && peer.wire.peerPieces.get(index)) {
        segment.spread[index] = 0;
        if (segment.offers[index] === 0) segment.unplaced++;
      }
    }
    const wires = peers.get(peer.wire.peerId);
    wires?.delete(peer);
    if (wires?.size === 0) {
      peers.delete(peer.wire.peerId);
      fed.delete(peer.wire.peerId);
    }
    offerEveryone();
  };

  return {
    /** A segment held whole, of the transfer `transferId` when given; its wires are attached as they come. */
    segment(pieceCount: number, transferId?: string, options: { lastOfTransfer?: boolean } = {}) {
      if (transferId !== undefined && options.lastOfTransfer === true) readToEnd.add(transferId);
      const segment: SegmentState = {
        pieceCount,
        transferId,
        addedMs: now(),
        wires: new Set(),
        offers: new Uint16Array(pieceCount),
        spread: new Uint8Array(pieceCount),
        unplaced: pieceCount,
      };
      segments.add(segment);
      return {
        /** Call on the 'wire' event, before webtorrent announces the segment's pieces to the peer. */
        attach(wire: Wire): void {
          const peer: PeerSegment = { wire, segment, offered: new Map(), announced: false, lastGainMs: now() };
          const sendBitfield = wire.bitfield.bind(wire);
          const announceOffersOnly = (): void => {
            if (peer.announced) return;
            sendBitfield(new Uint8Array(Math.ceil(pieceCount / 8)));
            peer.announced = true;
            offerMore(wire.peerId);
          };
          // webtorrent announces a whole segment as have-all (fast extension) or a full bitfield.
          wire.haveAll = announceOffersOnly;
          wire.bitfield = announceOffersOnly;
          segment.wires.add(peer);
          let wires = peers.get(wire.peerId);
          if (wires === undefined) peers.set(wire.peerId, (wires = new Set()));
          wires.add(peer);
          // A piece a far peer took is fresh again for the rack (isSpread): any peer may be the one to get it.
          const topUp = (freed: boolean): void => {
            if (!peer.announced) return;
            if (freed) offerEveryone();
            else offerMore(wire.peerId);
          };
          const gained = (index: number): void => {
            const at = now();
            peer.lastGainMs = at;
            if (segment.spread[index] === 0) isSpread(segment, index);
            const ours = peer.offered.has(index);
            topUp(ours && withdraw(peer, index));
            if (!fed.has(wire.peerId)) return;
            if (!ours) fed.delete(wire.peerId);
            // Fresh pieces first (offerMore): a held one sent while any is fresh is the seed's upload spent twice.
            else if (!hasFresh()) offerHeld(wire.peerId, at, () => true);
          };
          wire.on('have', gained);
          // An offer being fetched is not stale, however long the piece takes (2 MiB at a slow link's share).
          wire.on('request', (index: number) => {
            if (peer.offered.has(index)) peer.offered.set(index, now());
          });
          wire.on('bitfield', () => {
            let freed = false;
            for (const index of [...peer.offered.keys()]) if (wire.peerPieces.get(index)) freed = withdraw(peer, index) || freed;
            topUp(freed);
          });
          // Its place, once known, may make it one to offer pieces to.
          wire.on('extended', (name: string) => {
            if (name === 'handshake' && peer.announced) offerMore(wire.peerId);
          });
          wire.once('close', () => detach(peer));
        },
        /** The segment's torrent is gone: its wires close too, and nothing of it is offered again. */
        remove(): void {
          segments.delete(segment);
          if (segment.transferId !== undefined && ![...segments].some((other) => other.transferId === segment.transferId)) readToEnd.delete(segment.transferId);
          for (const peer of [...segment.wires]) detach(peer);
        },
      };
    },

    /**
     * Called every second or so. Every peer's offers are topped up (a far peer's grace may have
     * ended). Then, while the seed has nothing fresh to give anyone, a peer that fetches no offer of
     * ours and has announced no piece of any segment for stallMs is offered, of each segment it
     * lacks pieces of, the piece that the fewest connected peers hold, one at least.
     *
     * A piece on its way to its offeree, held by no one yet, is never a stall's answer: every peer
     * waiting for the seed's newest pieces looks stalled at once, and was offered the same one.
     * bench fleet at 16 nodes and 25 Mbit/s caught bursts of such offers, pieces sent by the seed
     * 14 and 15 times, a third of its upload while the origin was read. Only an offer its offeree
     * has not asked for within stallMs frees its piece for a stalled peer, and only such offers
     * leave a peer counted as stalled. A peer helped is then fed (`fed`): it may be one that can
     * reach no holder but the seed.
     */
    checkStalls(): void {
      offerEveryone();
      if (hasFresh()) return;
      const at = now();
      supplyOpened(at);
      for (const [peerId, wires] of peers) {
        if (activeOffers(peerId, at) > 0) continue;
        let lastGainMs = -Infinity;
        for (const peer of wires) lastGainMs = Math.max(lastGainMs, peer.lastGainMs);
        if (at - lastGainMs < stallMs) continue;
        let helped = false;
        for (const peer of wires) {
          if (!isLive(peer)) continue;
          const best = rarestHeldPiece(peer, at);
          if (best === -1) continue;
          offer(peer, best);
          helped = true;
        }
        if (!helped) continue;
        for (const peer of wires) peer.lastGainMs = at;
        fed.add(peerId);
      }
    },
  };
}

export type SuperSeeding = ReturnType<typeof createSuperSeeding>;
