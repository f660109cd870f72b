import { sha1Hex } from '../cas/digest.ts';

/** A block as one peer sent it: enough to tell later whether it matched the verified piece. */
export interface ReceivedBlock {
  offset: number;
  length: number;
  peerId: string;
  /** SHA-1 of the block as received (hex). */
  digest: string;
}

/** A block of the attempt being assembled: its bytes are kept until the verdict when the piece has several senders. */
interface PendingBlock {
  offset: number;
  length: number;
  peerId: string;
  bytes: Uint8Array | undefined;
}

interface Attempt {
  blocks: PendingBlock[];
  offsets: Set<number>;
  received: number;
  /** Whole: what arrives later was not part of the piece webtorrent verifies. */
  sealed: boolean;
}


/**
 * Which peers lied in pieces that failed verification ("smart ban"). A piece's blocks may come from
 * several wires; when one peer sent all of a failed piece it is struck at once; otherwise its
 * blocks are kept and compared, once the piece verifies, with the good piece: only peers whose
 * blocks differ are struck. `maxStrikes` strikes ban the peer id for the life of the engine.
 *
 * Blocks are hashed only when a piece with several senders failed: a SHA-1 of every block received
 * cost 0.8 CPU s per GiB (bench pair), and hashing the blocks of every piece with several senders
 * (most pieces in a fleet) still took a sixth of a fleet worker's hashing. Until the verdict the
 * blocks are mostly views of the piece's own buffer. torrent-piece no longer writes it once the
 * piece is whole, and a failed piece's buffer never goes back to the pool, so pieceFailed hashes
 * what was received. A good piece's buffer may be back in the pool (and reused or freed) before
 * pieceVerified is called: pieceVerified must not read the blocks, and does not.
 */
export function createPeerBans(options: { maxStrikes: number; onBanned?: (peerId: string) => void }) {
  const attempts = new Map<string, Map<number, Attempt>>(); // infoHash → piece → the attempt being assembled
  const suspects = new Map<string, Map<number, ReceivedBlock[]>>(); // infoHash → piece → blocks of failed attempts
  const strikes = new Map<string, number>();
  const banned = new Set<string>();

  const piecesOf = <T>(map: Map<string, Map<number, T>>, infoHash: string): Map<number, T> => {
    let pieces = map.get(infoHash);
    if (pieces === undefined) map.set(infoHash, (pieces = new Map<number, T>()));
    return pieces;
  };
  const take = <T>(map: Map<string, Map<number, T>>, infoHash: string, index: number): T | undefined => {
    const value = map.get(infoHash)?.get(index);
    map.get(infoHash)?.delete(index);
    return value;
  };
  const sendersOf = (blocks: readonly PendingBlock[]): Set<string> => new Set(blocks.map((block) => block.peerId));
  /** A piece from one sender needs no block bytes: that sender is struck at once if the piece fails. */
  const seal = (attempt: Attempt): void => {
    attempt.sealed = true;
    if (sendersOf(attempt.blocks).size > 1) return;
    for (const block of attempt.blocks) block.bytes = undefined;
  };
  const strike = (peerIds: Iterable<string>): string[] => {
    const newlyBanned: string[] = [];
    for (const peerId of new Set(peerIds)) {
      const count = (strikes.get(peerId) ?? 0) + 1;
      strikes.set(peerId, count);
      if (count >= options.maxStrikes && !banned.has(peerId)) {
        banned.add(peerId);
        newlyBanned.push(peerId);
        options.onBanned?.(peerId);
      }
    }
    return newlyBanned;
  };

  return {
    isBanned: (peerId: string): boolean => banned.has(peerId),
    /**
     * `bytes` as the peer sent them, `held` the piece's own copy of the block when it took this one.
     * A duplicate of a block the piece took from another peer, or a block the piece no longer holds
     * (the last one, after the piece was flushed), is kept as a copy: a view of the socket read
     * would keep the whole read alive, and the piece's copy is another peer's bytes. `pieceLength`
     * tells when the attempt is whole.
     */
    blockReceived(infoHash: string, index: number, block: { offset: number; peerId: string; bytes: Uint8Array; held?: Uint8Array | undefined }, pieceLength: number): void {
      const pieces = piecesOf(attempts, infoHash);
      let attempt = pieces.get(index);
      if (attempt === undefined) pieces.set(index, (attempt = { blocks: [], offsets: new Set(), received: 0, sealed: false }));
      if (attempt.sealed) return;
      const { offset, peerId, bytes, held } = block;
      const duplicate = attempt.offsets.has(offset);
      attempt.blocks.push({ offset, length: bytes.length, peerId, bytes: held !== undefined && !duplicate ? held : new Uint8Array(bytes) });
      if (!duplicate) {
        attempt.offsets.add(offset);
        attempt.received += bytes.length;
      }
      if (attempt.received >= pieceLength) seal(attempt);
    },
    /** Returns the blocks of earlier failed attempts, for the caller to compare with the good piece. */
    pieceVerified(infoHash: string, index: number): ReceivedBlock[] {
      take(attempts, infoHash, index);
      return take(suspects, infoHash, index) ?? [];
    },
    /** A sole sender is struck now; mixed senders wait for the piece to verify. Returns the peers banned. */
    pieceFailed(infoHash: string, index: number): string[] {
      const attempt = take(attempts, infoHash, index);
      if (attempt === undefined) return [];
      if (!attempt.sealed) seal(attempt);
      const senders = sendersOf(attempt.blocks);
      if (senders.size === 1) return strike(senders);
      const blocks = attempt.blocks.flatMap(({ offset, length, peerId, bytes }) => (bytes === undefined ? [] : [{ offset, length, peerId, digest: sha1Hex(bytes) }]));
      const pieces = piecesOf(suspects, infoHash);
      pieces.set(index, [...(pieces.get(index) ?? []), ...blocks]);
      return [];
    },
    /** Strikes once each peer whose block among `suspects` differs from the verified piece. Returns the peers banned. */
    blocksLied(suspects: readonly ReceivedBlock[], verifiedPiece: Uint8Array): string[] {
      return strike(suspects.filter((block) => sha1Hex(verifiedPiece.subarray(block.offset, block.offset + block.length)) !== block.digest).map((block) => block.peerId));
    },
    forget(infoHash: string): void {
      attempts.delete(infoHash);
      suspects.delete(infoHash);
    },
  };
}

export type PeerBans = ReturnType<typeof createPeerBans>;
