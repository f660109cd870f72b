import bencode from 'bencode';
import { isIPv4 } from 'node:net';
import { compactPeer } from './peerAddress.ts';
import type { SwarmPeer, SwarmStats } from './swarmRegistry.ts';

export interface AnnounceReply {
  intervalSeconds: number;
  minIntervalSeconds: number;
  stats: SwarmStats;
  peers: readonly SwarmPeer[];
  compact: boolean;
  noPeerId: boolean;
}

/**
 * A BEP 3 response. Compact (BEP 23): `peers` is 6 bytes per IPv4 peer and `peers6` (BEP 7) 18
 * bytes per IPv6 peer, since the 6-byte form cannot hold an IPv6 address. Otherwise a list of
 * dictionaries, which carries either family.
 */
export function encodeAnnounceReply(reply: AnnounceReply): Buffer {
  const body: Record<string, unknown> = {
    interval: reply.intervalSeconds,
    'min interval': reply.minIntervalSeconds,
    complete: reply.stats.complete,
    incomplete: reply.stats.incomplete,
  };
  if (reply.compact) {
    const v4 = reply.peers.filter((peer) => isIPv4(peer.ip));
    const v6 = reply.peers.filter((peer) => !isIPv4(peer.ip));
    body.peers = Buffer.concat(v4.map((peer) => compactPeer(peer.ip, peer.port)));
    if (v6.length > 0) body.peers6 = Buffer.concat(v6.map((peer) => compactPeer(peer.ip, peer.port)));
  } else {
    body.peers = reply.peers.map((peer) =>
      reply.noPeerId ? { ip: peer.ip, port: peer.port } : { 'peer id': Buffer.from(peer.peerId, 'hex'), ip: peer.ip, port: peer.port },
    );
  }
  return Buffer.from(bencode.encode(body));
}

/** A refusal. BitTorrent clients expect it with HTTP 200 and show the reason to their user. */
export function encodeFailure(reason: string): Buffer {
  return Buffer.from(bencode.encode({ 'failure reason': reason }));
}
