import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub, type PubSub } from '@graphql-yoga/subscription';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** Chunks one node verified, as carried by the commit that projected them (the heatmap's delta). */
export interface ChunkBatch {
  nodeId: string;
  source: string;
  chunkIndexes: number[];
  bytes: number;
}

/** What a projection commit says about one transfer; subscribers re-read the read model for the rest. */
export interface TransferCommit {
  transferId: string;
  projection: string;
  position: number;
  eventTypes: string[];
  chunks: ChunkBatch[];
  committedAt: string;
}

/** What a projection commit says about the fleet. */
export interface FleetCommit {
  projection: string;
  position: number;
  transferIds: string[];
  nodeIds: string[];
  eventTypes: string[];
  committedAt: string;
}

/**
 * One topic per kind, the transfer topic keyed by transfer id. Payloads are plain JSON so that the
 * same topics run over Redis pub/sub across api replicas.
 */
export type GraphqlTopics = {
  'te.transferProgress': [transferId: string, commit: TransferCommit];
  'te.fleetActivity': [commit: FleetCommit];
};

export type GraphqlPubSub = PubSub<GraphqlTopics>;

export interface GraphqlPubSubHandle {
  pubsub: GraphqlPubSub;
  close(): Promise<void>;
}

// No repeaterBuffer: yoga hands the one instance to every subscription's Repeater, so a shared
// buffer delivered one subscription's pushes to another (a transfer's commits on fleetActivity,
// seen in a real run). Unbuffered, a slow subscriber slows its own iterator only.

/**
 * In-process by default; with a Redis URL every replica's subscribers see every replica's commits
 * (only replicas that run the projector publish).
 */
export function createGraphqlPubSub(options: { redisUrl: string | undefined }, deps: { logger: Logger }): GraphqlPubSubHandle {
  if (options.redisUrl === undefined) {
    return { pubsub: createPubSub<GraphqlTopics>(), close: async () => {} };
  }
  const publishClient = new Redis(options.redisUrl, { lazyConnect: false, maxRetriesPerRequest: null });
  const subscribeClient = new Redis(options.redisUrl, { lazyConnect: false, maxRetriesPerRequest: null });
  for (const client of [publishClient, subscribeClient]) {
    client.on('error', (error: Error) => deps.logger.warn({ err: error }, 'graphql pubsub redis error; reconnecting'));
  }
  const eventTarget = createRedisEventTarget({ publishClient, subscribeClient });
  return {
    pubsub: createPubSub<GraphqlTopics>({ eventTarget }),
    async close() {
      await Promise.allSettled([publishClient.quit(), subscribeClient.quit()]);
    },
  };
}
