import type { Logger } from 'pino';
import type { AnnounceKeys } from './announceKey.ts';
import { parseAnnounce } from './announceRequest.ts';
import { encodeAnnounceReply, encodeFailure } from './announceResponse.ts';
import { peerAddressOf } from './peerAddress.ts';
import { localityOf, orderByLocality } from './peerSelection.ts';
import { parseRawQuery } from './rawQuery.ts';
import { createSwarmRegistry, type Locality } from './swarmRegistry.ts';
import type { AnnounceOutcome, TrackerMetrics } from './trackerMetrics.ts';

/** What the tracker asks of the rest of the control plane. */
export interface TrackerDeps {
  keys: AnnounceKeys;
  /** The info hashes (lower-case hex) of a transfer's torrents; undefined for an unknown transfer. */
  allowedInfoHashes(transferId: string): Promise<Set<string> | undefined>;
  /** A fleet node's labels ('rack', 'zone' place it); undefined for a node not registered. */
  nodeLabels(nodeId: string): Promise<Record<string, string> | undefined>;
  now?: () => number;
  random?: () => number;
}

export interface TrackerOptions {
  intervalSeconds: number;
  minIntervalSeconds: number;
  maxPeersPerSwarm: number;
}

/** 30 s: a new peer is found within one interval; 1,000 nodes make about 33 announces a second per swarm. */
export const defaultTrackerOptions: TrackerOptions = { intervalSeconds: 30, minIntervalSeconds: 10, maxPeersPerSwarm: 10_000 };

/**
 * A node announces each segment of a transfer on its own, and a large artifact has up to 64
 * segments (src/origin/pieceLayout.ts): beyond 16 the interval grows with their number, up to
 * four times, so that a transfer costs the tracker no more re-announces than one of 16 segments.
 * Peers find each other by their first announce of each segment, which the interval does not delay.
 */
const swarmsAtBaseInterval = 16;
const mostIntervalGrowth = 4;

export function announceIntervalSeconds(options: TrackerOptions, swarms: number): number {
  return Math.round(options.intervalSeconds * Math.min(mostIntervalGrowth, Math.max(1, swarms / swarmsAtBaseInterval)));
}

export interface AnnounceInput {
  /** The announce key from the path. */
  key: string;
  /** The raw request target, query included, undecoded. */
  rawUrl: string;
  remoteAddress: string | undefined;
}

/** The private-swarm tracker: admits announces by key and answers with peers, nearest first. */
export function createTracker(deps: TrackerDeps & { metrics: TrackerMetrics; logger: Logger }, options: TrackerOptions = defaultTrackerOptions) {
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  // Two of the longest intervals: a peer is forgotten only after it missed two re-announces.
  const swarm = createSwarmRegistry({ now }, { peerTtlMs: 2 * mostIntervalGrowth * options.intervalSeconds * 1000, maxPeersPerSwarm: options.maxPeersPerSwarm });

  const refuse = (outcome: AnnounceOutcome, reason: string): Buffer => {
    deps.metrics.announcesTotal.inc({ outcome });
    return encodeFailure(reason);
  };

  async function admit(transferId: string, nodeId: string | null, infoHash: string): Promise<{ refused: Buffer } | { locality: Locality; swarms: number }> {
    const allowed = await deps.allowedInfoHashes(transferId);
    if (allowed === undefined) return { refused: refuse('unknown_transfer', 'the transfer of this announce key is unknown') };
    if (!allowed.has(infoHash)) return { refused: refuse('info_hash_not_allowed', 'info_hash is not part of the transfer of this announce key') };
    return { locality: nodeId === null ? {} : localityOf(await deps.nodeLabels(nodeId)), swarms: allowed.size };
  }

  return {
    /** Always a bencoded body for HTTP 200: success, or `failure reason`, as clients expect. */
    async announce(input: AnnounceInput): Promise<Buffer> {
      const subject = deps.keys.verify(input.key);
      if (subject === undefined) return refuse('bad_key', 'the announce key is not valid');
      const query = parseRawQuery(input.rawUrl);
      if (query === undefined) return refuse('malformed', 'the query string is not valid percent-encoding');
      const parsed = parseAnnounce(query);
      if ('failure' in parsed) return refuse('malformed', parsed.failure);
      const request = parsed.request;
      const ip = peerAddressOf(input.remoteAddress);
      if (ip === undefined) return refuse('malformed', 'the connection has no usable address');

      let admitted;
      try {
        admitted = await admit(subject.transferId, subject.nodeId, request.infoHash);
      } catch (error) {
        deps.logger.error({ err: error, transferId: subject.transferId }, 'tracker admission check failed');
        return refuse('error', 'the tracker cannot check this announce now; it will retry at the next interval');
      }
      if ('refused' in admitted) return admitted.refused;

      const recorded = swarm.announce(
        request.infoHash,
        { peerId: request.peerId, ip, port: request.port, nodeId: subject.nodeId, locality: admitted.locality, left: request.left },
        request.event,
      );
      if (recorded === 'peer_id_in_use') return refuse(recorded, 'peer_id is in use by another peer of this swarm');
      if (recorded === 'swarm_full') return refuse(recorded, 'the swarm is full');
      deps.metrics.peers.set(swarm.peerCount());

      // Not the requester itself, nor an older entry of it (a restarted client has a new peer id).
      const others = swarm.peersOf(request.infoHash).filter((peer) => peer.peerId !== request.peerId && !(peer.ip === ip && peer.port === request.port));
      const peers = request.event === 'stopped' ? [] : orderByLocality(admitted.locality, others, request.numwant, random);
      deps.metrics.announcesTotal.inc({ outcome: 'ok' });
      return encodeAnnounceReply({
        intervalSeconds: announceIntervalSeconds(options, admitted.swarms),
        minIntervalSeconds: options.minIntervalSeconds,
        stats: swarm.stats(request.infoHash),
        peers,
        compact: request.compact,
        noPeerId: request.noPeerId,
      });
    },
  };
}

export type Tracker = ReturnType<typeof createTracker>;
