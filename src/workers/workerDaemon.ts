import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { ContentStore, createCasMetrics } from '../cas/index.ts';
import type { Config } from '../config.ts';
import { createTorrentEngine, type TorrentEngine } from '../engine/torrentEngine.ts';
import { createInProcessLeaseManager } from '../leases/inProcessLeaseManager.ts';
import type { LeaseManager } from '../leases/leaseManager.ts';
import { createLeaseMetrics } from '../leases/leaseMetrics.ts';
import { createRedisLeaseManager } from '../leases/redisLeaseManager.ts';
import { runJob, type JobRunnerDeps } from './jobRunner.ts';
import { setTimeout as delay } from 'node:timers/promises';
import { reseedCompletedJob } from './reseedJob.ts';
import { createWorkerApi, type AssignedJob } from './workerApi.ts';
import { createWorkerMetrics } from './workerMetrics.ts';
import { startDirectiveListener } from './directiveListener.ts';
import { createCasHousekeeping } from './casHousekeeping.ts';
import { startMetricsServer } from './metricsServer.ts';
import { localityOf } from '../locality.ts';

export type WorkerState = 'created' | 'starting' | 'running' | 'draining' | 'stopped';

export interface WorkerOptions {
  /** How often the node's jobs are listed from the api (the safety net under directives). */
  pollMs?: number;
  heartbeatMs?: number;
  leaseTtlMs?: number;
}

/**
 * The worker daemon of one node: registers the node, heartbeats, picks up the node's jobs and
 * runs each under a fenced lease. Crash-only: everything it needs to resume is in the CAS (verified
 * chunks) and in the api (jobs, manifests), so a restart is the recovery.
 */
export function createWorkerDaemon(config: Config, deps: { logger: Logger }, options: WorkerOptions = {}) {
  const { nodeId } = config.worker;
  const workerId = `${nodeId}/${process.pid}-${randomBytes(3).toString('hex')}`;
  const logger = deps.logger.child({ component: 'worker', nodeId });
  const registry = new Registry();
  const metrics = createWorkerMetrics(registry);
  const leaseMetrics = createLeaseMetrics(registry);
  const token = config.worker.token;
  if (token === undefined) throw new Error('a worker needs a node token: set TORRENTEDGE_NODE_TOKEN (or TORRENTEDGE_TOKEN)');
  const api = createWorkerApi({ apiUrl: config.apiUrl, token, logger });
  const running = new Map<string, AbortController>();
  const timers: NodeJS.Timeout[] = [];
  let state: WorkerState = 'created';
  let cas: ContentStore | undefined;
  let engine: TorrentEngine | undefined;
  let leases: LeaseManager | undefined;
  let polling = false;
  let directives: { stop(): Promise<void> } | undefined;
  let housekeeping: ReturnType<typeof createCasHousekeeping> | undefined;
  let metricsServer: Awaited<ReturnType<typeof startMetricsServer>> | undefined;

  const finished = new Map<string, Promise<void>>();

  function jobDeps(): JobRunnerDeps {
    return {
      api,
      cas: cas!,
      engine: engine!,
      leases: leases!,
      leaseMetrics,
      metrics,
      logger,
      nodeId,
      workerId,
      casVolume: config.worker.casDir,
      artifactsDir: join(config.dataDir, 'artifacts'),
      artifactRoots: config.worker.artifactRoots,
      leaseTtlMs: options.leaseTtlMs ?? config.worker.leaseTtlMs,
      originSettings: { s3: config.s3, pushRoots: config.worker.pushRoots, stagingDir: join(config.dataDir, 'staging'), logger },
    };
  }

  function launch(job: AssignedJob): void {
    if (state !== 'running') return;
    const controller = new AbortController();
    // Registered first: the collector sees the node busy from now on.
    running.set(job.transferId, controller);
    metrics.activeJobs.set(running.size);
    const work = (async () => {
      // A collection already under way finishes before the job looks at the CAS.
      await housekeeping?.settled();
      if (controller.signal.aborted) return;
      await (job.state === 'completed' ? reseedCompletedJob(job, jobDeps(), controller.signal) : runJob(job, jobDeps(), controller.signal));
    })()
      .catch((error: unknown) => {
        // A failed job was reported failed; a fenced or unreachable one is picked up again if it is still ours.
        if (!controller.signal.aborted) logger.warn({ err: error, transferId: job.transferId }, 'job stopped');
      })
      .finally(() => {
        running.delete(job.transferId);
        finished.delete(job.transferId);
        metrics.activeJobs.set(running.size);
        if (running.size === 0) void housekeeping?.runOnce();
      });
    finished.set(job.transferId, work);
  }

  async function pollJobs(): Promise<void> {
    if (polling || state !== 'running') return;
    polling = true;
    try {
      for (const job of await api.listJobs(nodeId)) {
        if (running.has(job.transferId) || job.state === 'failed' || job.transferStatus !== 'running') continue;
        launch(job);
      }
    } catch (error) {
      logger.warn({ err: error }, 'listing jobs failed; retrying');
    } finally {
      polling = false;
    }
  }

  async function startParts(): Promise<void> {
    cas = await ContentStore.open(config.worker.casDir, { metrics: createCasMetrics(registry) });
    engine = createTorrentEngine({
      cas,
      logger,
      torrentPort: config.worker.torrentPort,
      downloadLimitBytes: config.worker.downloadLimitBytes,
      uploadLimitBytes: config.worker.uploadLimitBytes,
      onPieceFailed: () => metrics.chunksFailed.inc(),
      locality: localityOf(config.worker.labels),
    });
    leases =
      config.redisUrl === undefined
        ? createInProcessLeaseManager({ metrics: leaseMetrics })
        : createRedisLeaseManager({ logger, metrics: leaseMetrics }, { redis: config.redisUrl });
    housekeeping = createCasHousekeeping(
      { cas, logger, isIdle: () => running.size === 0 },
      { highWatermarkBytes: config.worker.casHighWatermarkBytes, lowWatermarkBytes: config.worker.casLowWatermarkBytes },
    );
    if (config.worker.metricsPort !== undefined) metricsServer = await startMetricsServer(registry, { port: config.worker.metricsPort, host: config.host });
    timers.push(setInterval(() => metrics.peers.set(engine?.peerCount() ?? 0), 2000));
    // A stop during start wins: nothing below runs once the worker is draining.
    if (state !== 'starting') return;
    await api.registerNode(nodeId, { labels: config.worker.labels, casVolume: config.worker.casDir, capacityBytes: config.worker.capacityBytes });
    const beat = (): void => {
      api
        .heartbeat(nodeId, { workerId, activeJobs: running.size })
        .then(() => metrics.heartbeats.inc())
        .catch((error: unknown) => logger.warn({ err: error }, 'heartbeat failed'));
    };
    beat();
    if (state !== 'starting') return;
    timers.push(setInterval(beat, options.heartbeatMs ?? 5000));
    timers.push(setInterval(() => void pollJobs(), options.pollMs ?? 1000));
    state = 'running';
    directives = await startDirectiveListener(config, { logger }, () => void pollJobs());
    await pollJobs();
    logger.info({ workerId, casDir: config.worker.casDir, torrentPort: engine.port, metricsPort: metricsServer?.port }, 'worker running');
  }

  /** Drain: stop taking jobs, stop running ones (their leases are released), close the engine. */
  async function stop(): Promise<void> {
    if (state === 'stopped' || state === 'draining') return;
    state = 'draining';
    for (const timer of timers) clearInterval(timer);
    await directives?.stop();
    for (const controller of running.values()) controller.abort(new Error('the worker is draining'));
    // Inside the CLI's 10 s grace: jobs get 5 s to give their leases up, then the engine closes.
    await Promise.race([Promise.all(finished.values()), delay(5000)]);
    await housekeeping?.stop();
    await metricsServer?.close();
    await engine?.destroy();
    await leases?.close();
    state = 'stopped';
  }

  return {
    get state(): WorkerState {
      return state;
    },
    workerId,
    registry,
    get torrentPort(): number | undefined {
      return engine?.port;
    },
    get metricsPort(): number | undefined {
      return metricsServer?.port;
    },
    async start(): Promise<void> {
      state = 'starting';
      try {
        await startParts();
      } catch (error) {
        // Crash-only: a worker that cannot start releases what it opened and reports it; the supervisor restarts it.
        await stop();
        throw error;
      }
    },
    stop,
  };
}

export type WorkerDaemon = ReturnType<typeof createWorkerDaemon>;
