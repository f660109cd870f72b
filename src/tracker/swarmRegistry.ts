import type { Locality } from '../locality.ts';
import type { AnnounceEvent } from './announceRequest.ts';

export type { Locality } from '../locality.ts';

export interface SwarmPeer {
  peerId: string;
  ip: string;
  port: number;
  /** null for an external client. */
  nodeId: string | null;
  locality: Locality;
  left: number;
  lastSeen: number;
}

export interface SwarmStats {
  /** Seeders (left = 0). */
  complete: number;
  incomplete: number;
  /** `completed` events seen, for scrape's `downloaded`. */
  downloaded: number;
}

export type AnnounceRecorded = 'recorded' | 'peer_id_in_use' | 'swarm_full';

export interface SwarmRegistryOptions {
  /** A peer that has not announced for this long is gone; about twice the announce interval. */
  peerTtlMs: number;
  /** Bounds the memory one key holder can take by inventing peer ids. */
  maxPeersPerSwarm: number;
}

interface Swarm {
  peers: Map<string, SwarmPeer>;
  downloaded: number;
}

/**
 * Who is in which swarm, in this process's memory. It is ephemeral by design (peers re-announce
 * every interval, so a restart heals within one interval) and therefore not an event stream.
 * With several api replicas behind a balancer, each would see only the peers that hit it: the
 * state would move to Redis (a hash per info hash, field = peer id, with expiry swept alike).
 */
export function createSwarmRegistry(deps: { now: () => number }, options: SwarmRegistryOptions) {
  const swarms = new Map<string, Swarm>();
  let lastSweep = deps.now();

  const isLive = (peer: SwarmPeer, now: number) => now - peer.lastSeen < options.peerTtlMs;

  /** The swarm with its expired peers dropped. */
  function liveSwarm(infoHash: string, now: number): Swarm | undefined {
    const swarm = swarms.get(infoHash);
    if (swarm === undefined) return undefined;
    for (const [peerId, peer] of swarm.peers) if (!isLive(peer, now)) swarm.peers.delete(peerId);
    // An empty swarm is forgotten with its `downloaded` count: that count is informational, and
    // keeping it would keep one entry per transfer ever announced.
    if (swarm.peers.size === 0) swarms.delete(infoHash);
    return swarm;
  }

  /** Swarms nobody announces to any more are only reached by a sweep; one per TTL, amortized over announces. */
  function sweepIfDue(now: number): void {
    if (now - lastSweep < options.peerTtlMs) return;
    lastSweep = now;
    for (const infoHash of [...swarms.keys()]) liveSwarm(infoHash, now);
  }

  return {
    announce(infoHash: string, peer: Omit<SwarmPeer, 'lastSeen'>, event: AnnounceEvent): AnnounceRecorded {
      const now = deps.now();
      sweepIfDue(now);
      const swarm = liveSwarm(infoHash, now) ?? { peers: new Map<string, SwarmPeer>(), downloaded: 0 };
      const existing = swarm.peers.get(peer.peerId);
      // A live peer id belongs to whoever announced it: another node or host cannot replace or stop it.
      if (existing !== undefined && (existing.nodeId !== peer.nodeId || existing.ip !== peer.ip)) return 'peer_id_in_use';
      if (event === 'stopped') {
        swarm.peers.delete(peer.peerId);
        if (swarm.peers.size === 0) swarms.delete(infoHash);
        return 'recorded';
      }
      if (existing === undefined && swarm.peers.size >= options.maxPeersPerSwarm) return 'swarm_full';
      swarm.peers.set(peer.peerId, { ...peer, lastSeen: now });
      if (event === 'completed') swarm.downloaded += 1;
      swarms.set(infoHash, swarm);
      return 'recorded';
    },

    /** The live peers of a swarm, in no particular order. */
    peersOf(infoHash: string): SwarmPeer[] {
      return [...(liveSwarm(infoHash, deps.now())?.peers.values() ?? [])];
    },

    stats(infoHash: string): SwarmStats {
      const swarm = liveSwarm(infoHash, deps.now());
      let complete = 0;
      for (const peer of swarm?.peers.values() ?? []) if (peer.left === 0) complete += 1;
      return { complete, incomplete: (swarm?.peers.size ?? 0) - complete, downloaded: swarm?.downloaded ?? 0 };
    },

    /** Peers across all swarms, expired ones possibly included until the next sweep (for the gauge). */
    peerCount(): number {
      let count = 0;
      for (const swarm of swarms.values()) count += swarm.peers.size;
      return count;
    },
  };
}

export type SwarmRegistry = ReturnType<typeof createSwarmRegistry>;
