/**
 * Which peers sent the blocks of pieces that failed verification. A piece's blocks may come from
 * several wires; each contributor of a failed piece gets a strike, and `maxStrikes` strikes ban
 * the peer id for the life of the engine (BitTorrent peers are known by peer id; on loopback or
 * behind NAT many share an address).
 */
export function createPeerBans(options: { maxStrikes: number; onBanned?: (peerId: string) => void }) {
  const contributors = new Map<string, Map<number, Set<string>>>(); // infoHash → piece → peer ids
  const strikes = new Map<string, number>();
  const banned = new Set<string>();

  const piecesOf = (infoHash: string): Map<number, Set<string>> => {
    let pieces = contributors.get(infoHash);
    if (pieces === undefined) contributors.set(infoHash, (pieces = new Map<number, Set<string>>()));
    return pieces;
  };

  return {
    isBanned: (peerId: string): boolean => banned.has(peerId),
    blockReceived(infoHash: string, index: number, peerId: string): void {
      const pieces = piecesOf(infoHash);
      let peers = pieces.get(index);
      if (peers === undefined) pieces.set(index, (peers = new Set()));
      peers.add(peerId);
    },
    pieceVerified(infoHash: string, index: number): void {
      contributors.get(infoHash)?.delete(index);
    },
    /** Strikes every contributor of the failed piece; returns the peers banned by this failure. */
    pieceFailed(infoHash: string, index: number): string[] {
      const peers = contributors.get(infoHash)?.get(index) ?? new Set<string>();
      contributors.get(infoHash)?.delete(index);
      const newlyBanned: string[] = [];
      for (const peerId of peers) {
        const count = (strikes.get(peerId) ?? 0) + 1;
        strikes.set(peerId, count);
        if (count >= options.maxStrikes && !banned.has(peerId)) {
          banned.add(peerId);
          newlyBanned.push(peerId);
          options.onBanned?.(peerId);
        }
      }
      return newlyBanned;
    },
    forget(infoHash: string): void {
      contributors.delete(infoHash);
    },
  };
}

export type PeerBans = ReturnType<typeof createPeerBans>;
