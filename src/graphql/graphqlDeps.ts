import type { AppDeps } from '../api/appDeps.ts';
import type { FleetQueries } from '../projections/queries/fleetQueries.ts';
import type { GraphqlPubSub } from './pubsub.ts';

/** What the GraphQL layer reads and calls: the REST api's handlers and read models, plus the pubsub. */
export type GraphqlDeps = Pick<AppDeps, 'transfers' | 'queries' | 'nodes' | 'heartbeats' | 'eventLog' | 'tokens' | 'logger'> & {
  fleet: FleetQueries;
  pubsub: GraphqlPubSub;
  clock: () => Date;
  /** Error messages and stacks of unexpected errors go to the caller (development only). */
  development: boolean;
  /** Ends every open subscription (SSE streams and WebSocket operations) when the api closes. */
  shutdown: AbortSignal;
};
