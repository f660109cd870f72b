import type { Wire } from 'webtorrent';

/**
 * Whether to keep this connection of a pair that connected to each other twice. webtorrent tells
 * peers apart by address only, so when two nodes both dial each other (each learnt the other from
 * the tracker) a swarm keeps both connections: bench fleet counted about 218 wires per node for 7
 * peers and 16 segments, twice the useful number, each with its own request pipeline, timers and
 * share of every `have`. Both ends decide alike, so they keep the same connection: the one dialled
 * by the lower peer id, as libtorrent does.
 */
export function keepsConnection(localPeerId: string, remotePeerId: string, outgoing: boolean): boolean {
  return localPeerId < remotePeerId ? outgoing : !outgoing;
}

/** The wire to close when `wire` duplicates a connection already in `wires`; undefined when it does not. */
export function duplicateToClose(localPeerId: string, wire: Wire, wires: readonly Wire[]): Wire | undefined {
  const other = wires.find((candidate) => candidate !== wire && candidate.peerId === wire.peerId && !candidate.destroyed);
  if (other === undefined || wire.type === other.type) return undefined;
  return keepsConnection(localPeerId, wire.peerId, wire.type === 'tcpOutgoing') ? other : wire;
}
