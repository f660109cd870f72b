/** A block as one peer sent it: enough to tell later whether it matched the verified piece. */
export interface ReceivedBlock {
  offset: number;
  length: number;
  peerId: string;
  /** SHA-1 of the block as received (hex). */
  digest: string;
}

/**
 * Which peers lied in pieces that failed verification ("smart ban"). A piece's blocks may come from
 * several wires; when one peer sent all of a failed piece it is struck at once; otherwise its
 * blocks are kept and compared, once the piece verifies, with the good piece: only peers whose
 * blocks differ are struck. `maxStrikes` strikes ban the peer id for the life of the engine.
 */
export function createPeerBans(options: { maxStrikes: number; onBanned?: (peerId: string) => void }) {
  const attempts = new Map<string, Map<number, ReceivedBlock[]>>(); // infoHash → piece → blocks of the current attempt
  const suspects = new Map<string, Map<number, ReceivedBlock[]>>(); // infoHash → piece → blocks of failed attempts
  const strikes = new Map<string, number>();
  const banned = new Set<string>();

  const piecesOf = (map: Map<string, Map<number, ReceivedBlock[]>>, infoHash: string): Map<number, ReceivedBlock[]> => {
    let pieces = map.get(infoHash);
    if (pieces === undefined) map.set(infoHash, (pieces = new Map<number, ReceivedBlock[]>()));
    return pieces;
  };
  const take = (map: Map<string, Map<number, ReceivedBlock[]>>, infoHash: string, index: number): ReceivedBlock[] => {
    const blocks = map.get(infoHash)?.get(index) ?? [];
    map.get(infoHash)?.delete(index);
    return blocks;
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
    blockReceived(infoHash: string, index: number, block: ReceivedBlock): void {
      const pieces = piecesOf(attempts, infoHash);
      let blocks = pieces.get(index);
      if (blocks === undefined) pieces.set(index, (blocks = []));
      blocks.push(block);
    },
    /** Returns the blocks of earlier failed attempts, for the caller to compare with the good piece. */
    pieceVerified(infoHash: string, index: number): ReceivedBlock[] {
      take(attempts, infoHash, index);
      return take(suspects, infoHash, index);
    },
    /** A sole sender is struck now; mixed senders wait for the piece to verify. Returns the peers banned. */
    pieceFailed(infoHash: string, index: number): string[] {
      const blocks = take(attempts, infoHash, index);
      const senders = new Set(blocks.map((block) => block.peerId));
      if (senders.size === 1) return strike(senders);
      const pieces = piecesOf(suspects, infoHash);
      pieces.set(index, [...(pieces.get(index) ?? []), ...blocks]);
      return [];
    },
    /** Peers whose blocks differed from the verified piece: one strike each. Returns the peers banned. */
    blocksLied(peerIds: Iterable<string>): string[] {
      return strike(peerIds);
    },
    forget(infoHash: string): void {
      attempts.delete(infoHash);
      suspects.delete(infoHash);
    },
  };
}

export type PeerBans = ReturnType<typeof createPeerBans>;
