import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { context } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { createObjectBuilders, type ContentStore, type ObjectBuilders } from '../cas/index.ts';
import type { TorrentEngine } from '../engine/torrentEngine.ts';
import type { LeaseManager } from '../leases/leaseManager.ts';
import type { LeaseMetrics } from '../leases/leaseMetrics.ts';
import { contextFrom, inSpan, SpanKind } from '../observability/tracing.ts';
import { originFor, type OriginSettings } from '../origin/originFor.ts';
import { assertDestinationAllowed } from './destinationRoots.ts';
import { fetchArtifact, isEndedStatus, type CompleteManifest } from './fetchArtifact.ts';
import { acquireJobLease, leaseResource } from './jobLease.ts';
import { classifyJobStop, LeaseLostError } from './jobOutcome.ts';
import { createProgressReporter, type ProgressReporter } from './progressReporter.ts';
import { runSeedJob } from './seedJob.ts';
import type { AssignedJob, WorkerApi } from './workerApi.ts';
import type { WorkerMetrics } from './workerMetrics.ts';

export interface JobRunnerDeps {
  api: WorkerApi;
  cas: ContentStore;
  engine: TorrentEngine;
  leases: LeaseManager;
  leaseMetrics?: LeaseMetrics;
  metrics: WorkerMetrics;
  logger: Logger;
  nodeId: string;
  workerId: string;
  casVolume: string;
  /** Where artifacts go when the transfer names no destination: <artifactsDir>/<transferId>/. */
  artifactsDir: string;
  /** The only directories a destination may be in. */
  artifactRoots: readonly string[];
  leaseTtlMs?: number;
  /** What the origins of seed jobs need: S3 settings, push roots, the magnet staging directory. */
  originSettings: OriginSettings;
}

/**
 * One job on this node: take the fenced lease for (node's CAS volume, transfer), record it with
 * the api, read the origin (seed) or fetch from peers, materialize, complete, and keep seeding
 * until the transfer ends. Every report carries the lease's fencing token; a lost lease aborts
 * the job's reads and writes.
 */
export function runJob(job: AssignedJob, deps: JobRunnerDeps, signal: AbortSignal): Promise<void> {
  const parent = contextFrom(job.traceparent === null ? {} : { traceparent: job.traceparent });
  const attributes = { 'torrentedge.transfer_id': job.transferId, 'torrentedge.node_id': job.nodeId, 'torrentedge.role': job.role };
  return inSpan('run job', { parent, kind: SpanKind.CONSUMER, attributes }, () => runLeasedJob(job, deps, signal));
}

/** A step of the job as a child span of the job's. */
const step = <T>(name: string, fn: () => Promise<T>): Promise<T> => inSpan(name, { parent: context.active() }, fn);

async function runLeasedJob(job: AssignedJob, deps: JobRunnerDeps, drain: AbortSignal): Promise<void> {
  const { api } = deps;
  const key = { transferId: job.transferId, nodeId: job.nodeId };
  const log = deps.logger.child({ transferId: job.transferId });
  // Aborted by a drain or by the loss of the lease: every read and write of the job stops.
  const stop = new AbortController();
  const onDrain = (): void => stop.abort(drain.reason);
  drain.addEventListener('abort', onDrain, { once: true });
  const resource = leaseResource(deps.nodeId, deps.casVolume, job.transferId);
  const lease = await acquireJobLease(
    { ...deps, logger: log },
    { resource, ttlMs: deps.leaseTtlMs ?? 15_000, tokenSeen: job.highestFencingToken, signal: stop.signal, onLost: () => stop.abort(new LeaseLostError(`the lease of ${resource} was lost`)) },
  );
  const joined = new Set<string>();
  const meter = throughputMeter(deps.metrics, job.transferId);
  // Under partial/job-<transfer>/: the artifact's files, which hold the pieces downloaded into them.
  const objects = createObjectBuilders(deps.cas, { partialKey: `job-${job.transferId}` });
  let completed = false;
  let keepFiles = false;
  try {
    await deps.cas.raiseFence(lease.resource, lease.fencingToken);
    await api.grantLease(key, deps.workerId, lease.fencingToken);
    deps.metrics.jobsStarted.inc({ role: job.role });
    const reporter = createProgressReporter({ api, key, fencingToken: lease.fencingToken, logger: log, onReported: (source, count) => deps.metrics.chunksReported.inc({ source }, count) });
    const started = Date.now();
    try {
      const jobDeps = { api, cas: deps.cas, engine: deps.engine, reporter, logger: log, isHeld: () => lease.isHeld(), signal: stop.signal, onSegmentJoined: (infoHash: string) => joined.add(infoHash), objects };
      if (job.role === 'seed') await step('seed from origin', () => seed(job, deps, jobDeps, meter.count));
      const manifest = await step('fetch chunks', () => fetchArtifact(job.transferId, { ...jobDeps, onBytes: meter.count }));
      await finishJob(job, deps, reporter, manifest, lease, objects);
      completed = true;
      deps.metrics.jobSeconds.observe({ role: job.role }, (Date.now() - started) / 1000);
    } finally {
      await reporter.stop();
    }
    await seedUntilTransferEnds(job.transferId, deps, stop.signal);
  } catch (error) {
    const why = classifyJobStop(error, drain.aborted);
    // Drained, fenced, the api out of reach, or failed: the job may be taken up again here, and
    // resumes from what its files hold (garbage collection takes them if it never is).
    keepFiles = !completed && why !== 'ended';
    if (why === 'drained' && !completed && lease.isHeld()) await api.abandonJob(key, lease.fencingToken, 'the worker drained').catch(() => undefined);
    if (why === 'failed' && lease.isHeld()) await api.failJob(key, lease.fencingToken, (error as Error).message.slice(0, 1000)).catch(() => undefined);
    if (why !== 'ended' && why !== 'drained') throw error;
  } finally {
    drain.removeEventListener('abort', onDrain);
    meter.stop();
    // The swarms are left when the job ends, however it ends, before its files close: nothing is
    // stored into them or read from them after.
    try {
      for (const infoHash of joined) await deps.engine.removeSegment(infoHash);
    } finally {
      try {
        await (keepFiles ? objects.closeAll() : objects.discardAll());
      } finally {
        await lease.release().catch(() => false);
      }
    }
  }
}

type StepDeps = Parameters<typeof fetchArtifact>[1];

async function seed(job: AssignedJob, deps: JobRunnerDeps, jobDeps: StepDeps, count: (source: 'origin', bytes: number) => void): Promise<void> {
  const view = await deps.api.manifest(job.transferId);
  const origin = await originFor(view.source, deps.originSettings);
  const closeOnStop = (): void => void origin.close();
  jobDeps.signal.addEventListener('abort', closeOnStop, { once: true });
  try {
    await runSeedJob(job.transferId, { ...jobDeps, origin, onOriginBytes: (bytes) => count('origin', bytes) });
  } finally {
    jobDeps.signal.removeEventListener('abort', closeOnStop);
    await origin.close();
  }
}

async function finishJob(
  job: AssignedJob,
  deps: JobRunnerDeps,
  reporter: ProgressReporter,
  manifest: CompleteManifest,
  lease: { resource: string; fencingToken: number; isHeld(): boolean },
  objects: ObjectBuilders,
): Promise<void> {
  await reporter.flush();
  const refused = reporter.failure();
  if (refused !== undefined) throw refused;
  const view = await deps.api.manifest(job.transferId);
  const destination = view.destination ?? join(deps.artifactsDir, job.transferId);
  await assertDestinationAllowed(destination, deps.artifactRoots);
  if (!lease.isHeld()) throw new LeaseLostError('the lease was lost before materializing');
  await step('materialize', () =>
    deps.cas.materialize({
      files: manifest.files.map((file) => ({ path: file.path, length: file.length, sha256: file.sha256! })),
      pieceLength: manifest.pieceLength,
      pieceSha256: manifest.segments.flatMap((segment) => segment!.pieceSha256),
      destination,
      layout: 'directory',
      pin: `transfer-${job.transferId}`,
      fence: { resource: lease.resource, fencingToken: lease.fencingToken },
      builders: objects.forFiles(),
    }),
  );
  await deps.api.completeJob({ transferId: job.transferId, nodeId: job.nodeId }, lease.fencingToken);
  deps.logger.info({ transferId: job.transferId, destination }, 'artifact verified and materialized');
}

/** Bytes a job took in over each second, as a gauge per transfer that goes when the job does. */
function throughputMeter(metrics: WorkerMetrics, transferId: string) {
  let bytesThisSecond = 0;
  const timer = setInterval(() => {
    metrics.jobThroughput.set({ transfer: transferId }, bytesThisSecond);
    bytesThisSecond = 0;
  }, 1000);
  timer.unref();
  return {
    count: (source: 'origin' | 'peer' | 'cas', bytes: number): void => {
      metrics.bytes.inc({ source }, bytes);
      if (source !== 'cas') bytesThisSecond += bytes;
    },
    stop: (): void => {
      clearInterval(timer);
      metrics.jobThroughput.remove({ transfer: transferId });
    },
  };
}

async function seedUntilTransferEnds(transferId: string, deps: JobRunnerDeps, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    if (isEndedStatus((await deps.api.manifest(transferId)).status)) return;
    await delay(1000, undefined, { signal }).catch(() => undefined);
  }
}
