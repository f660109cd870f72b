import type { Torrent, Wire } from 'webtorrent';
import { localityRank, type Locality } from '../locality.ts';

/**
 * Keys of the BEP 10 extended handshake that carry a node's rack and zone. Other clients ignore
 * keys they do not know, and send none: a peer without them is placed nowhere.
 */
const rackKey = 'te_rack';
const zoneKey = 'te_zone';
/** Set by a node super-seeding the segment (superSeeding.ts): it holds every piece, and shows each peer only what it offers it. */
const seedingKey = 'te_seeding';

/**
 * How long a piece may wait for a rack-mate to bring it into the rack before this node fetches it
 * from outside itself: liveness when the rack-mate is slow or gone, not a source of speed.
 */
const defaultFetchAnywayMs = 30_000;

/** How long a piece waits for a rack-mate while this node has nothing else to fetch. */
const defaultStarvedFetchMs = 2_000;

/** How soon a segment that refused a far wire a piece asks again: a node may have starved meanwhile. */
const defaultRecheckMs = 1_000;

/** Where a peer sits relative to this node: 'pending' until its extended handshake arrives. */
export type Nearness = 'near' | 'far' | 'unplaced' | 'pending';

/**
 * Rack locality between engines. Each engine announces its rack and zone in the extended
 * handshake. The tracker already lists same-rack peers first, but a leecher then asks every peer
 * it is connected to for pieces, and each rack took 1.8–3.1 F over its uplink (bench fleet,
 * 2 racks). So a download takes a piece from outside the rack only when no rack-mate holds it and
 * the piece is this node's to bring in. That is a piece a seed in another rack offered it (the seed
 * offers each piece to one peer), or one dealt to it among the rack's members of the segment (this
 * node and the rack-mates it is connected to, ordered by peer id), so that each crosses the uplink
 * about once and the others get it from the member that brought it. None is dealt while a rack-mate
 * seeds the segment: that seed offers the rack what it lacks. A piece no rack-mate holds is fetched
 * from outside anyway after starvedFetchMs when the node has nothing else to fetch (isStarved), and
 * any piece after fetchAnywayMs.
 */
export function createRackLocality(
  own: Locality,
  ownPeerId: string,
  options: { fetchAnywayMs?: number; starvedFetchMs?: number; now?: () => number; isStarved?: () => boolean; recheckMs?: number } = {},
) {
  const fetchAnywayMs = options.fetchAnywayMs ?? defaultFetchAnywayMs;
  const isStarved = options.isStarved ?? ((): boolean => false);
  const recheckMs = options.recheckMs ?? defaultRecheckMs;
  const starvedFetchMs = options.starvedFetchMs ?? defaultStarvedFetchMs;
  const now = options.now ?? Date.now;
  const placed = own.rack !== undefined;
  const nearness = new WeakMap<Wire, Nearness>();
  const seeding = new WeakSet<Wire>();

  const nearnessOf = (wire: Wire): Nearness => nearness.get(wire) ?? 'unplaced';
  let bytesFromOtherRacks = 0;

  return {
    nearnessOf,

    /** Whether the peer super-seeds the segment (it said so in its handshake): it counts the pieces it offered by the HAVEs it gets back. */
    isSuperSeeder: (wire: Wire): boolean => seeding.has(wire),

    /** Piece bytes received from peers placed in another rack, since start. */
    bytesFromOtherRacks: (): number => bytesFromOtherRacks,

    /**
     * Call on the 'wire' event: this node's place goes out in the handshake, the peer's is read
     * from its own. `seedingSegment` when this node super-seeds the segment.
     */
    attach(wire: Wire, seedingSegment: boolean): void {
      if (own.rack !== undefined) wire.extendedHandshake[rackKey] = own.rack;
      if (own.zone !== undefined) wire.extendedHandshake[zoneKey] = own.zone;
      if (seedingSegment) wire.extendedHandshake[seedingKey] = 1;
      wire.on('extended', (name: string, handshake: Record<string, unknown>) => {
        if (name === 'handshake' && handshake[seedingKey] === 1) seeding.add(wire);
      });
      if (!placed || !wire.peerExtensions.extended) return void nearness.set(wire, 'unplaced');
      nearness.set(wire, 'pending');
      wire.on('download', (bytes: number) => {
        if (nearness.get(wire) === 'far') bytesFromOtherRacks += bytes;
      });
      wire.on('extended', (name: string, handshake: Record<string, unknown>) => {
        if (name !== 'handshake') return;
        const peer: Locality = {};
        const rack = text(handshake[rackKey]);
        const zone = text(handshake[zoneKey]);
        if (rack !== undefined) peer.rack = rack;
        if (zone !== undefined) peer.zone = zone;
        nearness.set(wire, rack === undefined ? 'unplaced' : localityRank(own, peer) === 0 ? 'near' : 'far');
      });
    },

    /**
     * Wraps a downloading segment's request step so that a far wire carries a piece only as
     * described above. webtorrent's pickers try the next piece when a request is refused.
     */
    guardRequests(torrent: Torrent): void {
      if (!placed) return;
      const request = torrent._request.bind(torrent);
      const offset = Number.parseInt(torrent.infoHash.slice(0, 8), 16);
      /** When a far wire was first refused a piece, by piece. */
      const refusedSince = new Map<number, number>();
      torrent.on('verified', (index: number) => refusedSince.delete(index));
      let recheck: NodeJS.Timeout | undefined;
      torrent.once('close', () => clearTimeout(recheck));
      torrent._request = (wire, index, hotswap) => {
        if (nearnessOf(wire) !== 'far') return request(wire, index, hotswap);
        const inRack = rackMateHolds(index);
        if (!inRack && (seeding.has(wire) || dealtToSelf(index))) return request(wire, index, hotswap);
        let since = refusedSince.get(index);
        if (since === undefined) refusedSince.set(index, (since = now()));
        const waited = now() - since;
        // Waited a while with nothing else to fetch anywhere: waiting longer only idles the links.
        // Views of the rack differ while connections are being made, so a piece may be dealt to no one.
        // Not so for a piece a rack-mate holds: webtorrent asks the rack-mate's wire in the same
        // pass. Its wires go in random order, and at the end of a transfer (starved, and every piece
        // refused long ago) the far wire, asked first, took up to 0.07 F more into a rack (bench fleet, 2 racks).
        if (waited >= fetchAnywayMs || (!inRack && waited >= starvedFetchMs && isStarved())) return request(wire, index, hotswap);
        recheck ??= setTimeout(() => {
          recheck = undefined;
          if (!torrent.destroyed) torrent._update();
        }, recheckMs).unref();
        return false;
      };
      const rackMateHolds = (index: number): boolean =>
        torrent.wires.some((wire) => !wire.destroyed && nearnessOf(wire) === 'near' && wire.peerPieces.get(index));
      const dealtToSelf = (index: number): boolean => {
        // A set: two wires to one rack-mate (duplicateWires.ts keeps some) would deal it two shares, and the rack-mate one.
        const members = new Set([ownPeerId]);
        for (const wire of torrent.wires) {
          if (wire.destroyed || nearnessOf(wire) !== 'near') continue;
          if (seeding.has(wire)) return false;
          members.add(wire.peerId);
        }
        if (members.size === 1) return true;
        const ordered = [...members].sort();
        return ordered[(index + offset) % ordered.length] === ownPeerId;
      };
    },
  };
}

export type RackLocality = ReturnType<typeof createRackLocality>;

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
  return undefined;
}
