import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AppDeps } from '../api/appDeps.ts';
import { loadOrCreateAdminToken, loadTokenStore, tokenEntry, type Scope } from '../api/auth/tokens.ts';
import { buildApp } from '../api/buildApp.ts';
import type { CommandDeps } from '../commands/handleCommand.ts';
import { createStreamStateCache } from '../commands/streamStateCache.ts';
import { createTransferCommands } from '../commands/transferCommands.ts';
import type { Config } from '../config.ts';
import { TorrentEdgeError } from '../errors.ts';
import type { EventLog } from '../events/eventLog.ts';
import { createPgEventLog } from '../infra/postgres/eventLog/pgEventLog.ts';
import type { SqlDatabase } from '../infra/postgres/sqlDatabase.ts';
import { createMetrics, type Metrics } from '../observability/metrics.ts';
import { projectionNamed, projections } from '../projections/index.ts';
import { createProjector, type Projector } from '../projections/projector.ts';
import { createTransferQueries } from '../projections/queries/transferQueries.ts';
import { replayProjection } from '../projections/replayProjection.ts';
import { openBus } from './openBus.ts';
import { createJobCommands } from '../commands/jobCommands.ts';
import { createNodeCommands } from '../commands/nodeCommands.ts';
import { createJobAssigner } from '../processes/jobAssigner.ts';
import { createNodeQueries } from '../projections/queries/nodeQueries.ts';
import { openDatabase } from './openDatabase.ts';
import { createHeartbeatRegistry } from '../api/heartbeats.ts';
import { createAnnounceKeys } from '../tracker/announceKey.ts';
import { loadOrCreateTrackerSecret } from '../tracker/trackerSecret.ts';
import type { MessageBus } from '../bus/messageBus.ts';
import { createRelay, type Relay } from '../relay/relay.ts';
import { relayTopics } from '../relay/topics.ts';
import { createGraphqlPubSub } from '../graphql/pubsub.ts';
import { publishCommit } from '../graphql/commitFeed.ts';
import { createFleetQueries } from '../projections/queries/fleetQueries.ts';

export interface ControlPlane {
  app: FastifyInstance;
  db: SqlDatabase;
  eventLog: EventLog;
  projector: Projector | undefined;
  bus: MessageBus;
  relay: Relay | undefined;
  metrics: Metrics;
  commands: CommandDeps;
  /** Where the admin token came from, for the start-up message. */
  adminToken: { source: 'environment' | 'file' | 'generated'; path?: string; created?: boolean } | undefined;
  /** The address the api listens on, once `listen` resolved. */
  url: string | undefined;
  listen(): Promise<string>;
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  /** Run the projector in this process (the embedded default does; a scaled api may not). */
  projector: boolean;
  /** Run the log-to-bus relay in this process. */
  relay?: boolean;
  /** Use this bus instead of the one the config names (tests). */
  bus?: MessageBus;
  /** Open this database instead of the one the config names (tests). */
  db?: SqlDatabase;
  clock?: () => Date;
  /** Extra principals known only to this process (the local worker of `start`). */
  localTokens?: ReadonlyArray<{ subject: string; scopes: readonly Scope[]; token: string }>;
}

/** Composes the control plane: store, event log, projector, command handlers, api. */
export async function createControlPlane(config: Config, deps: { logger: Logger }, options: ControlPlaneOptions): Promise<ControlPlane> {
  const db = options.db ?? (await openDatabase(config, deps, { migrate: true }));
  const metrics = createMetrics();
  const eventLog = createPgEventLog(db);

  let adminToken: ControlPlane['adminToken'];
  let tokenValue = config.adminToken;
  if (tokenValue !== undefined) adminToken = { source: 'environment' };
  else if (config.tokensFile !== undefined) adminToken = { source: 'file', path: config.tokensFile };
  else {
    const generated = await loadOrCreateAdminToken(config.dataDir);
    tokenValue = generated.token;
    adminToken = { source: 'generated', path: generated.path, created: generated.created };
  }
  const tokens = await loadTokenStore({
    ...(tokenValue !== undefined ? { adminToken: tokenValue } : {}),
    ...(config.tokensFile !== undefined ? { tokensFile: config.tokensFile } : {}),
    extraEntries: (options.localTokens ?? []).map(({ subject, scopes, token }) => tokenEntry(subject, scopes, token)),
  });

  const commands: CommandDeps = {
    eventLog,
    cache: createStreamStateCache(),
    observe: (command, outcome, code) => {
      metrics.commandsTotal.inc({ command, outcome });
      if (code === 'TE_ERR_STALE_FENCING_TOKEN') metrics.staleFencingTokens.inc();
    },
    onAppended: (events) => {
      for (const event of events) metrics.eventsAppendedTotal.inc({ type: event.type });
    },
  };

  // GraphQL subscriptions are fed here, after each projection commit; over Redis when configured,
  // so that api replicas without a projector push them too.
  const graphqlPubSub = createGraphqlPubSub({ redisUrl: config.redisUrl }, deps);
  const projector = options.projector
    ? createProjector(
        {
          db,
          eventLog,
          logger: deps.logger.child({ component: 'projector' }),
          onCommit: (projection, events) => {
            const now = Date.now();
            for (const event of events) metrics.projectionLagSeconds.observe({ projection }, (now - event.recordedAt.getTime()) / 1000);
            metrics.projectionPosition.set({ projection }, Math.max(...events.map((event) => event.globalPosition)));
            publishCommit(graphqlPubSub.pubsub, projection, events);
          },
        },
        { projections },
      )
    : undefined;

  const nodeQueries = createNodeQueries(db);
  // Assigning jobs follows the log like the projector does, and runs where it runs.
  const assigner = options.projector
    ? createJobAssigner({ db, eventLog, jobs: createJobCommands(commands), transfers: createTransferCommands(commands), nodes: nodeQueries, logger: deps.logger.child({ component: 'job-assigner' }), waitForReadModels: (position) => projector!.waitForPosition(position, 60_000) })
    : undefined;
  const bus = options.bus ?? openBus(config, deps, 'control-plane');
  let relayedPosition = 0;
  const relay = options.relay
    ? createRelay(
        {
          db,
          eventLog,
          bus,
          logger: deps.logger.child({ component: 'relay' }),
          onPublished: (events) => {
            metrics.relayPublishedTotal.inc(events.length);
            metrics.relayDirectivesTotal.inc(events.filter((event) => event.type === 'JobAssigned').length);
            relayedPosition = Math.max(relayedPosition, ...events.map((event) => event.globalPosition));
          },
        },
        { topics: relayTopics({ events: config.kafkaPartitions, dispatch: config.kafkaPartitions }) },
      )
    : undefined;

  const transfers = createTransferCommands(commands);
  const trackerDeps = {
    keys: createAnnounceKeys(await loadOrCreateTrackerSecret(config.dataDir, config.trackerSecret)),
    allowedInfoHashes: async (transferId: string) => {
      const state = await transfers.currentState(transferId, 1000);
      if (state.status === 'none') return undefined;
      return new Set((state.manifest?.segments ?? []).flatMap((segment) => (segment === undefined ? [] : [segment.infoHash])));
    },
    nodeLabels: (nodeId: string) => nodeQueries.labelsOf(nodeId),
  };
  const appDeps: AppDeps = {
    logger: deps.logger,
    metrics,
    tokens,
    transfers,
    queries: createTransferQueries(db),
    tracker: trackerDeps,
    graphql: { pubsub: graphqlPubSub.pubsub, fleet: createFleetQueries(db), development: config.development },
    nodes: { commands: createNodeCommands(commands), queries: nodeQueries },
    jobs: createJobCommands(commands),
    heartbeats: createHeartbeatRegistry({ ttlMs: 30_000 }),
    eventLog,
    readiness: [
      { name: 'database', check: async () => void (await db.query('SELECT 1')) },
      ...(projector === undefined
        ? []
        : [{ name: 'projector', check: async () => { if (projector.state !== 'running') throw new Error(`projector is ${projector.state}`); } }]),
      ...(relay === undefined
        ? []
        : [{ name: 'relay', check: async () => { if (relay.state !== 'running') throw new Error(`relay is ${relay.state}`); } }]),
    ],
    replayProjection: async (name) => {
      const projection = projectionNamed(name);
      if (projection === undefined) {
        throw new TorrentEdgeError('TE_ERR_UNKNOWN_PROJECTION', `no projection "${name}"; there are ${projections.map((p) => p.name).join(', ')}`);
      }
      return replayProjection({ db, eventLog }, projection);
    },
    ...(options.clock ? { clock: options.clock } : {}),
    beforeScrape: async () => {
      const head = await eventLog.headPosition();
      metrics.logHeadPosition.set(head);
      if (relay !== undefined) metrics.relayLagEvents.set(Math.max(0, head - relayedPosition));
    },
  };
  const app = await buildApp(appDeps, { bodyLimitBytes: config.bodyLimitBytes });
  await projector?.start();
  await assigner?.start();
  await relay?.start();

  const plane: ControlPlane = {
    app,
    db,
    eventLog,
    projector,
    bus,
    relay,
    metrics,
    commands,
    adminToken,
    url: undefined,
    async listen() {
      const address = await app.listen({ port: config.port, host: config.host });
      plane.url = address;
      return address;
    },
    async stop() {
      await app.close();
      await relay?.stop();
      await assigner?.stop();
      await projector?.stop();
      await graphqlPubSub.close();
      if (options.bus === undefined) await bus.close();
      if (options.db === undefined) await db.close();
    },
  };
  return plane;
}

