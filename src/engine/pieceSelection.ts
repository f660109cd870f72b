import type { Torrent } from 'webtorrent';

/** What piece selection reads of torrent-piece's Piece (torrent-piece 4): its block reservations. */
interface PieceReservations {
  length: number;
  _chunks: number;
  _reservations: number;
  _cancellations: unknown[] | null;
  /** Assembled and handed on (verified or not); webtorrent drops it once the store has it. */
  _flushed: boolean;
}

const piecesOf = (torrent: Torrent): readonly (PieceReservations | null | undefined)[] => torrent.pieces as (PieceReservations | null | undefined)[];

/**
 * Bounds the pieces a download has started and not yet stored, across the engine's segments.
 * One wire per segment and 32 MiB pieces (a 16 GiB artifact) put 17 pieces, 494 MiB, in flight
 * at once on the leecher of bench pair (899 MiB RSS). A segment refused a new piece waits (its
 * started pieces go on) and is woken when a piece is stored or fails or a peer leaves, or after
 * the rescan interval. At least one piece may always start.
 */
export function createPieceBudget(maxBytes: number, options: { rescanAfterMs?: number; now?: () => number } = {}) {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`);
  const rescanAfterMs = options.rescanAfterMs ?? 10;
  const now = options.now ?? performance.now.bind(performance);
  const torrents = new Set<Torrent>();
  const waiting = new Set<Torrent>();
  /**
   * Bytes of pieces with blocks requested that are not stored yet (webtorrent drops a piece once
   * stored). A segment with no peer left does not count: its pieces cannot hold the others up.
   */
  const scanStarted = (): { pieces: number; bytes: number } => {
    let pieces = 0;
    let bytes = 0;
    for (const torrent of torrents) {
      if (torrent.wires.length === 0) continue;
      for (const piece of piecesOf(torrent)) {
        // A flushed piece is whole and waiting for the CAS: the write backpressure counts it.
        if (piece == null || piece._reservations === 0 || piece._flushed) continue;
        pieces++;
        bytes += piece.length;
      }
    }
    return { pieces, bytes };
  };
  // The picker asks once per block received (65,536 times per GiB), and a scan walks every piece
  // of every segment: bench pair spent 0.8 CPU s per GiB scanning. The figure is kept between
  // scans, raised by every piece this budget lets start, and scanned again after rescanAfterMs or
  // when a piece is stored, fails or a peer leaves (the only ways it falls).
  let started = 0;
  let scannedAt = Number.NEGATIVE_INFINITY;
  let retry: NodeJS.Timeout | undefined;
  /** A piece was stored or dropped, or a peer left: the segments that were refused one ask again. */
  const wake = (): void => {
    scannedAt = Number.NEGATIVE_INFINITY;
    if (retry !== undefined) clearTimeout(retry);
    retry = undefined;
    for (const torrent of [...waiting]) {
      waiting.delete(torrent);
      if (!torrent.destroyed) torrent._update();
    }
  };
  const startedBytes = (): number => {
    const at = now();
    if (at - scannedAt >= rescanAfterMs) {
      started = scanStarted().bytes;
      scannedAt = at;
    }
    return started;
  };
  return {
    track(torrent: Torrent): void {
      torrents.add(torrent);
      torrent.once('close', () => {
        torrents.delete(torrent);
        waiting.delete(torrent);
      });
    },
    mayStart(torrent: Torrent, pieceLength: number): boolean {
      const bytes = startedBytes();
      if (bytes === 0 || bytes + pieceLength <= maxBytes) return true;
      waiting.add(torrent);
      // The figure may be high by pieces granted but not started (the wire's request failed):
      // a refused segment asks again after the rescan interval even if nothing wakes it.
      retry ??= setTimeout(wake, rescanAfterMs).unref();
      return false;
    },
    /** A piece this budget allowed has started. */
    started(pieceLength: number): void {
      started += pieceLength;
    },
    wake,
    /**
     * Pieces started and not stored, and their bytes, counted now. Each holds its whole length
     * from its first block on (patches/torrent-piece), so this is what they take in memory.
     */
    inFlight: scanStarted,
  };
}

export type PieceBudget = ReturnType<typeof createPieceBudget>;

/**
 * Rarest first, but pieces already started come first, as libtorrent does, and a new piece only
 * within the budget. webtorrent's rarest strategy picks a random piece among the rarest for each
 * free request slot, so one seeder with every piece equally rare had a block or two asked for in
 * every piece of a segment: bench pair counted 508 of 512 pieces being assembled at once (1.1 GiB
 * RSS for a 1 GiB artifact), and none complete, so none to share. Finishing started pieces keeps
 * about a piece per wire in flight. Upstream, this belongs in webtorrent's RarityMap.getRarestPiece.
 */
export function pickStartedPiecesFirst(torrent: Torrent, budget: PieceBudget): void {
  const rarity = torrent._rarityMap;
  if (rarity === null || rarity === undefined) return;
  const rarest = rarity.getRarestPiece.bind(rarity);
  rarity.getRarestPiece = (filter?: (index: number) => boolean): number => {
    const pieces = piecesOf(torrent);
    for (let index = 0; index < pieces.length; index++) {
      const piece = pieces[index];
      if (piece == null || piece._reservations === 0) continue;
      const unreserved = piece._reservations < piece._chunks || (piece._cancellations?.length ?? 0) > 0;
      if (unreserved && (filter === undefined || filter(index))) return index;
    }
    if (!budget.mayStart(torrent, torrent.pieceLength)) return -1;
    const index = rarest(filter);
    if (index >= 0) budget.started(torrent.pieceLength);
    return index;
  };
}
