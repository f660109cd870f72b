import type { Torrent, Wire } from 'webtorrent';

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

/** The address a peer accepts connections on, as the tracker lists it: its IP and the port its BEP 10 handshake gave ('p'). */
export function listenAddressOf(wire: Pick<Wire, 'remoteAddress' | 'peerExtendedHandshake'>): string | undefined {
  const port = wire.peerExtendedHandshake?.p;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535 || typeof wire.remoteAddress !== 'string') return undefined;
  const ip = wire.remoteAddress.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/**
 * Keeps webtorrent from dialling a peer that is connected already through a connection the peer
 * dialled. webtorrent knows such a peer by the address its connection came from (an ephemeral port), so every
 * tracker answer listing the peer, and every redial of a closed duplicate (after 1, 5 and 15 s),
 * made a new connection to handshake and close as a duplicate: bench fleet closed about 230 per node
 * in a run of 16 segments and 7 peers, four per pair and segment instead of at most one.
 */
export function skipDialsToConnectedPeers(torrent: Pick<Torrent, '_addPeer' | 'wires'>): void {
  const addPeer = torrent._addPeer.bind(torrent);
  torrent._addPeer = (peer, type, source) => {
    if (typeof peer === 'string' && torrent.wires.some((wire) => !wire.destroyed && wire.type === 'tcpIncoming' && listenAddressOf(wire) === peer)) return null;
    return addPeer(peer, type, source);
  };
}
