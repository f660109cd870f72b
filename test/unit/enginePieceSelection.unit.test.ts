import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Torrent } from 'webtorrent';
import { createPieceBudget, pickStartedPiecesFirst } from '../../src/engine/pieceSelection.ts';
import { waitFor } from '../helpers/waitFor.ts';

/** A piece as torrent-piece keeps it: 4 blocks, `reserved` of them asked for. */
const piece = (reserved: number, cancelled = 0, flushed = false) => ({ length: 64, _chunks: 4, _reservations: reserved, _cancellations: Array.from({ length: cancelled }, () => 0), _flushed: flushed });

function fakeTorrent(pieces: (ReturnType<typeof piece> | null)[]) {
  const torrent = {
    pieces,
    pieceLength: 64,
    wires: [{}],
    destroyed: false,
    updates: 0,
    once: () => torrent,
    _update: () => void torrent.updates++,
    // webtorrent's rarest picker, reduced to "the first piece the filter lets through".
    _rarityMap: { getRarestPiece: (filter?: (index: number) => boolean) => pieces.findIndex((_, index) => filter === undefined || filter(index)) },
  };
  return torrent;
}

describe('piece selection', () => {
  it('continues a started piece before starting another, whatever the picker would choose', () => {
    const torrent = fakeTorrent([piece(0), piece(4), piece(2), piece(0, 0)]);
    pickStartedPiecesFirst(torrent as unknown as Torrent, createPieceBudget(1024));
    assert.equal(torrent._rarityMap.getRarestPiece(), 2, 'piece 1 is all reserved; piece 2 has free blocks');
    torrent.pieces[2] = piece(4, 1);
    assert.equal(torrent._rarityMap.getRarestPiece(), 2, 'a cancelled block is free again');
    assert.equal(torrent._rarityMap.getRarestPiece((index) => index !== 2), 0, "the caller's filter still applies");
  });

  it('starts no piece beyond the budget until one is stored, then wakes the segments it refused', () => {
    const budget = createPieceBudget(128);
    const a = fakeTorrent([piece(4), piece(0)]);
    const b = fakeTorrent([piece(2), piece(0)]);
    for (const torrent of [a, b]) {
      budget.track(torrent as unknown as Torrent);
      pickStartedPiecesFirst(torrent as unknown as Torrent, budget);
    }
    assert.equal(a._rarityMap.getRarestPiece((index) => index === 1), -1, 'two pieces of 64 bytes are in flight');
    budget.wake();
    assert.equal(a.updates, 1);
    b.wires = [];
    assert.equal(a._rarityMap.getRarestPiece((index) => index === 1), 1, 'a segment without peers holds nothing up');
    assert.throws(() => createPieceBudget(0), RangeError);
  });

  it('does not count a whole piece waiting for the CAS: the write backpressure does', () => {
    const budget = createPieceBudget(128);
    const torrent = fakeTorrent([piece(4, 0, true), piece(4, 0, true), piece(0)]);
    budget.track(torrent as unknown as Torrent);
    pickStartedPiecesFirst(torrent as unknown as Torrent, budget);
    assert.deepEqual(budget.inFlight(), { pieces: 0, bytes: 0 });
    assert.equal(torrent._rarityMap.getRarestPiece((index) => index === 2), 2);
  });

  it('lets one piece start even when it alone is over the budget', () => {
    const budget = createPieceBudget(16);
    const torrent = fakeTorrent([piece(0)]);
    budget.track(torrent as unknown as Torrent);
    pickStartedPiecesFirst(torrent as unknown as Torrent, budget);
    assert.equal(torrent._rarityMap.getRarestPiece(), 0);
  });

  it('counts the pieces it lets start between scans, and scans again after a store', () => {
    // The clock stands still: nothing rescans unless woken.
    const budget = createPieceBudget(128, { rescanAfterMs: 10, now: () => 0 });
    const torrent = fakeTorrent([piece(0), piece(0), piece(0)]);
    budget.track(torrent as unknown as Torrent);
    pickStartedPiecesFirst(torrent as unknown as Torrent, budget);
    assert.equal(torrent._rarityMap.getRarestPiece((index) => index === 0), 0);
    assert.equal(torrent._rarityMap.getRarestPiece((index) => index === 1), 1, 'the picker has not reserved piece 0 yet: 64 of 128 bytes counted');
    assert.equal(torrent._rarityMap.getRarestPiece((index) => index === 2), -1, 'two pieces granted within the interval fill the budget');
    torrent.pieces[0] = null;
    budget.wake();
    assert.equal(torrent._rarityMap.getRarestPiece((index) => index === 2), 2, 'a stored piece frees its bytes at once');
  });

  it('asks a refused segment again after the rescan interval even if nothing wakes it', async () => {
    const budget = createPieceBudget(64, { rescanAfterMs: 5 });
    const busy = fakeTorrent([piece(4)]);
    const refused = fakeTorrent([piece(0)]);
    for (const torrent of [busy, refused]) {
      budget.track(torrent as unknown as Torrent);
      pickStartedPiecesFirst(torrent as unknown as Torrent, budget);
    }
    assert.equal(refused._rarityMap.getRarestPiece(), -1);
    await waitFor('the refused segment to be asked again', () => refused.updates > 0);
  });
});

