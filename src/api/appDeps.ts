import type { Logger } from 'pino';
import type { TransferCommands } from '../commands/transferCommands.ts';
import type { EventLog } from '../events/eventLog.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { TransferQueries } from '../projections/queries/transferQueries.ts';
import type { NodeCommands } from '../commands/nodeCommands.ts';
import type { NodeQueries } from '../projections/queries/nodeQueries.ts';
import type { TokenStore } from './auth/tokens.ts';
import type { JobCommands } from '../commands/jobCommands.ts';
import type { HeartbeatRegistry } from './heartbeats.ts';
import type { TrackerDeps } from '../tracker/tracker.ts';
import type { GraphqlPubSub } from '../graphql/pubsub.ts';
import type { FleetQueries } from '../projections/queries/fleetQueries.ts';

export interface ReadinessCheck {
  name: string;
  /** Resolves when the dependency is usable; rejects with the reason otherwise. */
  check(): Promise<void>;
}

export interface AppDeps {
  logger: Logger;
  metrics: Metrics;
  tokens: TokenStore;
  transfers: TransferCommands;
  queries: TransferQueries;
  nodes: { commands: NodeCommands; queries: NodeQueries };
  jobs: JobCommands;
  heartbeats: HeartbeatRegistry;
  eventLog: EventLog;
  readiness: readonly ReadinessCheck[];
  /** Rebuilds one read model from the log; absent where this process owns no projections. */
  replayProjection?: (name: string) => Promise<{ events: number }>;
  clock?: () => Date;
  /** Refreshes gauges that are read at scrape time (log head, relay lag). */
  beforeScrape?: () => Promise<void>;
  /** The private swarm's tracker (GET /tracker/:key/announce); absent, the route is not served. */
  tracker?: TrackerDeps;
  /** GraphQL at /graphql (HTTP, SSE, WebSocket) and the dashboard; absent, neither is served. */
  graphql?: { pubsub: GraphqlPubSub; fleet: FleetQueries; development: boolean };
}

export interface AppOptions {
  bodyLimitBytes: number;
}
