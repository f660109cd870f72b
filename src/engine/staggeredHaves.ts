import type { Torrent, Wire } from 'webtorrent';

/** Peers told of a new piece at a time, per piece, while they fetch it from this node. */
const defaultFanout = 2;

/**
 * A peer told of a piece that has asked for none of its blocks for this long is not fetching it
 * from this node (it is busy, or takes it from another holder): the next peer is told.
 */
const defaultIdleMs = 500;

/** How often told peers are checked for idleness while some piece still has peers to tell. */
const checkEveryMs = 250;

/** A piece this node got and has not told every peer of yet. */
interface Spreading {
  /** Peers lacking it, not told yet, in the order they are to be told. */
  readonly waiting: Set<Wire>;
  /** Peers told of it and lacking it still: when each was told, or last asked for a block of it. */
  readonly told: Map<Wire, number>;
}

/**
 * Tells peers of a piece this node just got a few at a time instead of all at once. webtorrent
 * sends HAVE to every peer as soon as a piece is stored, and every peer that lacks it asks for it
 * at once: the holder's upload is shared among all of them, and none can pass the piece on before
 * all are done. bench fleet at 16 nodes and 25 Mbit/s caught the last pieces of a transfer held by
 * one leecher for ten seconds while it served them to fourteen peers side by side. Told two at a
 * time, the first get it at half the holder's rate and pass it on while the holder serves the
 * next: the piece spreads as a tree (BEP 16's idea, applied by every leecher to its new pieces).
 *
 * A peer that learns of the piece elsewhere and gets it is never told; a peer told that does not
 * ask for it within idleMs makes way for the next. Peers that connect later get the bitfield,
 * every piece in it, as before. Some are told at once (tellAtOnce): a super-seeding seed, which
 * offers the next piece when the last one offered is announced back (superSeeding.ts), and peers in
 * other racks, which take only the pieces dealt to them (rackLocality.ts): told late, a rack waited
 * for what it was to bring in (bench fleet, 2 racks: 23.3 and 25.1 s against 19.0 s).
 */
export function staggerHaves(
  torrent: Torrent,
  options: { fanout?: number; idleMs?: number; now?: () => number; tellAtOnce?: (wire: Wire) => boolean } = {},
) {
  const fanout = options.fanout ?? defaultFanout;
  const idleMs = options.idleMs ?? defaultIdleMs;
  const now = options.now ?? Date.now;
  const tellAtOnce = options.tellAtOnce ?? ((): boolean => false);
  const spreading = new Map<number, Spreading>();
  const sendHave = new WeakMap<Wire, (index: number) => void>();
  let timer: NodeJS.Timeout | undefined;

  const lacks = (wire: Wire, index: number): boolean => !wire.destroyed && !wire.peerPieces.get(index);

  const release = (index: number): void => {
    const state = spreading.get(index);
    if (state === undefined) return;
    for (const wire of state.waiting) {
      if (wire.destroyed) state.waiting.delete(wire);
      // A seed's handshake may come after the piece was queued for it; its bitfield shows what it offers, not what it lacks.
      else if (tellAtOnce(wire)) {
        state.waiting.delete(wire);
        sendHave.get(wire)?.(index);
      } else if (!lacks(wire, index)) state.waiting.delete(wire);
    }
    const at = now();
    let fetching = 0;
    for (const [wire, since] of state.told) {
      if (!lacks(wire, index)) state.told.delete(wire);
      else if (at - since < idleMs) fetching++;
    }
    for (; fetching < fanout; fetching++) {
      const wire: Wire | undefined = state.waiting.values().next().value;
      if (wire === undefined) break;
      state.waiting.delete(wire);
      state.told.set(wire, at);
      sendHave.get(wire)?.(index);
    }
    if (state.waiting.size === 0) spreading.delete(index);
    if (spreading.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  /** Every piece's told peers checked: the idle make way (what the timer runs). */
  const releaseAll = (): void => {
    for (const index of [...spreading.keys()]) release(index);
  };

  /** webtorrent calls have(index) on every wire in turn once a piece is stored: each call queues that wire. */
  const queue = (wire: Wire, index: number): void => {
    if (tellAtOnce(wire)) return sendHave.get(wire)?.(index);
    let state = spreading.get(index);
    if (state === undefined) {
      spreading.set(index, (state = { waiting: new Set(), told: new Map() }));
      queueMicrotask(() => release(index));
      timer ??= setInterval(releaseAll, checkEveryMs).unref();
    }
    state.waiting.add(wire);
  };

  torrent.once('close', () => {
    clearInterval(timer);
    timer = undefined;
    spreading.clear();
  });

  return {
    /** Call on the 'wire' event, before webtorrent announces a piece on it. */
    attach(wire: Wire): void {
      sendHave.set(wire, wire.have.bind(wire));
      wire.have = (index: number) => queue(wire, index);
      wire.on('request', (index: number) => {
        const told = spreading.get(index)?.told;
        if (told?.has(wire) === true) told.set(wire, now());
      });
      // It got the piece, from anyone: one of the fanout is free, and it needs no HAVE of it.
      wire.on('have', (index: number) => release(index));
      wire.once('close', releaseAll);
    },
    checkIdle: releaseAll,
    /** Pieces with peers still to tell, for tests and metrics. */
    spreadingCount: (): number => spreading.size,
  };
}
