import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { ContentStore } from '../cas/index.ts';
import type { TorrentEngine } from '../engine/torrentEngine.ts';
import type { LeaseManager } from '../leases/leaseManager.ts';
import { holdLease, type FencedLease } from '../leases/fencedLease.ts';
import type { LeaseMetrics } from '../leases/leaseMetrics.ts';
import { originFor, type OriginSettings } from '../origin/originFor.ts';
import { context } from '@opentelemetry/api';
import { contextFrom, inSpan, SpanKind } from '../observability/tracing.ts';
import { fetchArtifact, TransferEndedError } from './fetchArtifact.ts';
import { createProgressReporter } from './progressReporter.ts';
import { runSeedJob } from './seedJob.ts';
import { ApiError, type AssignedJob, type WorkerApi } from './workerApi.ts';
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
  leaseTtlMs?: number;
  /** What the origins of seed jobs need: S3 settings, push roots, the magnet staging directory. */
  originSettings: OriginSettings;
}

const ended = new Set(['completed', 'failed', 'cancelled']);

/**
 * One job on this node: take the fenced lease for (CAS volume, transfer), record it with the
 * api, read the origin (seed) or fetch from peers, materialize, complete, and keep seeding until
 * the transfer ends. Every report carries the lease's fencing token; a lost lease stops writes.
 */
export function runJob(job: AssignedJob, deps: JobRunnerDeps, signal: AbortSignal): Promise<void> {
  const parent = contextFrom(job.traceparent === null ? {} : { traceparent: job.traceparent });
  const attributes = { 'torrentedge.transfer_id': job.transferId, 'torrentedge.node_id': job.nodeId, 'torrentedge.role': job.role };
  return inSpan('run job', { parent, kind: SpanKind.CONSUMER, attributes }, () => runLeasedJob(job, deps, signal));
}

/** A step of the job as a child span of the job's. */
const step = <T>(name: string, fn: () => Promise<T>): Promise<T> => inSpan(name, { parent: context.active() }, fn);

async function runLeasedJob(job: AssignedJob, deps: JobRunnerDeps, signal: AbortSignal): Promise<void> {
  const { api, logger } = deps;
  const key = { transferId: job.transferId, nodeId: job.nodeId };
  const log = logger.child({ transferId: job.transferId });
  const lease = await acquireLease(job, deps, signal, log);
  const started = Date.now();
  let infoHashes: string[] = [];
  let completed = false;
  let bytesThisSecond = 0;
  const throughput = setInterval(() => {
    deps.metrics.jobThroughput.set({ transfer: job.transferId }, bytesThisSecond);
    bytesThisSecond = 0;
  }, 1000);
  throughput.unref();
  const countBytes = (source: 'origin' | 'peer' | 'cas', bytes: number): void => {
    deps.metrics.bytes.inc({ source }, bytes);
    if (source !== 'cas') bytesThisSecond += bytes;
  };
  try {
    await deps.cas.raiseFence(lease.resource, lease.fencingToken);
    await api.grantLease(key, deps.workerId, lease.fencingToken);
    deps.metrics.jobsStarted.inc({ role: job.role });
    const reporter = createProgressReporter({ api, key, fencingToken: lease.fencingToken, logger: log, onReported: (source, count) => deps.metrics.chunksReported.inc({ source }, count) });
    try {
      if (job.role === 'seed') {
        const view = await api.manifest(job.transferId);
        const origin = originFor(view.source, deps.originSettings);
        const closeOnAbort = (): void => void origin.close();
        signal.addEventListener('abort', closeOnAbort, { once: true });
        try {
          await step('seed from origin', () => runSeedJob(job.transferId, { api, cas: deps.cas, engine: deps.engine, origin, reporter, logger: log, isHeld: () => lease.isHeld(), onOriginBytes: (bytes) => countBytes('origin', bytes) }));
        } finally {
          signal.removeEventListener('abort', closeOnAbort);
          await origin.close();
        }
      }
      const manifest = await step('fetch chunks', () => fetchArtifact(job.transferId, {
        api,
        cas: deps.cas,
        engine: deps.engine,
        reporter,
        logger: log,
        isHeld: () => lease.isHeld(),
        signal,
        onBytes: countBytes,
      }));
      infoHashes = manifest.segments.map((segment) => segment!.infoHash);
      await reporter.flush();
      const refused = reporter.failure();
      if (refused !== undefined) throw refused;
      const view = await api.manifest(job.transferId);
      const destination = view.destination ?? join(deps.artifactsDir, job.transferId);
      if (!lease.isHeld()) throw new Error('the lease was lost before materializing');
      await step('materialize', () => deps.cas.materialize({
        files: manifest.files.map((file) => ({ path: file.path, length: file.length, sha256: file.sha256! })),
        pieceLength: manifest.pieceLength,
        pieceSha256: manifest.segments.flatMap((segment) => segment!.pieceSha256),
        destination,
        layout: 'directory',
        pin: `transfer-${job.transferId}`,
        fence: { resource: lease.resource, fencingToken: lease.fencingToken },
      }));
      await api.completeJob(key, lease.fencingToken);
      completed = true;
      deps.metrics.jobSeconds.observe({ role: job.role }, (Date.now() - started) / 1000);
      log.info({ destination, seconds: (Date.now() - started) / 1000 }, 'artifact verified and materialized');
    } finally {
      await reporter.stop();
    }
    await seedUntilTransferEnds(job.transferId, deps, signal);
  } catch (error) {
    if (error instanceof TransferEndedError) throw error;
    if (signal.aborted) {
      // A drained worker gives the job up in the log, so a replacement takes it without waiting.
      if (!completed && lease.isHeld()) await api.abandonJob(key, lease.fencingToken, 'the worker drained').catch(() => undefined);
      throw error;
    }
    // Fenced off by a newer lease: another worker owns the job now; say nothing more.
    if (error instanceof ApiError && (error.code === 'TE_ERR_STALE_FENCING_TOKEN' || error.code === 'TE_ERR_LEASE_NOT_GRANTED')) throw error;
    if (lease.isHeld()) await api.failJob(key, lease.fencingToken, (error as Error).message.slice(0, 1000)).catch(() => undefined);
    throw error;
  } finally {
    clearInterval(throughput);
    deps.metrics.jobThroughput.remove({ transfer: job.transferId });
    await lease.release().catch(() => false);
    // The swarm is left when the transfer ends (or the worker drains); the chunks stay in the CAS.
    for (const infoHash of infoHashes) await deps.engine.removeSegment(infoHash);
  }
}

async function acquireLease(job: AssignedJob, deps: JobRunnerDeps, signal: AbortSignal, log: Logger): Promise<FencedLease> {
  const resource = `${deps.casVolume}:${job.transferId}`;
  const ttlMs = deps.leaseTtlMs ?? 15_000;
  for (;;) {
    const granted = await deps.leases.acquire(resource, deps.workerId, ttlMs);
    if (granted !== undefined) {
      return holdLease({ leases: deps.leases, ...(deps.leaseMetrics !== undefined ? { metrics: deps.leaseMetrics } : {}) }, granted, {
        onLost: (reason) => log.warn({ reason }, 'lease lost; the job stops writing'),
      });
    }
    // Another worker (a crashed one, until its lease expires) holds it: take over after expiry.
    await delay(Math.min(1000, ttlMs / 4), undefined, { signal });
  }
}

async function seedUntilTransferEnds(transferId: string, deps: JobRunnerDeps, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    const view = await deps.api.manifest(transferId);
    if (ended.has(view.status)) return;
    await delay(1000, undefined, { signal }).catch(() => undefined);
  }
}
