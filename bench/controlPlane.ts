/**
 * `npm run bench -- control-plane [--json]`: command throughput, latency and projection lag of
 * the control plane on real PostgreSQL, each against a bare-INSERT baseline measured in the same
 * run. See docs/benchmarks.md for the method and the figures.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJobCommands } from '../src/commands/jobCommands.ts';
import { createTransferCommands } from '../src/commands/transferCommands.ts';
import { loadConfig } from '../src/config.ts';
import { migrate } from '../src/infra/postgres/migrate.ts';
import { createPgDatabase } from '../src/infra/postgres/pgDatabase.ts';
import { silentLogger } from '../src/observability/logger.ts';
import { createControlPlane } from '../src/runtime/controlPlane.ts';
import { createBenchDatabase, serverVersion } from './controlPlane/benchDatabase.ts';
import { runBaseline } from './controlPlane/baseline.ts';
import { projectionLagMetricP99Ms } from './controlPlane/lagHistogram.ts';
import { parseOptions, usage, type ControlPlaneBenchOptions } from './controlPlane/options.ts';
import { createClients, runChunkProgressPhase, runCreatePhase, runLifecyclePhase, warmUp, type PhaseDeps } from './controlPlane/phases.ts';
import { connectProjectionLagProbe } from './controlPlane/projectionLagProbe.ts';
import { buildReport, formatReport, type ControlPlaneReport } from './controlPlane/report.ts';
import type { createCleanupStack } from './lib/cleanupStack.ts';
import { describeMachine } from './lib/machine.ts';
import { runBench } from './lib/benchMain.ts';
import { withTimeout } from './lib/withTimeout.ts';

const warmUpSeconds = 1;
const drainTimeoutMs = 30_000;

// Progress goes to stderr in every mode, so stdout carries only the result.
const log = (message: string): void => console.error(`[bench control-plane] ${message}`);

export function main(args: string[]): Promise<number> {
  return runBench({ log, usage, parseOptions, measure, formatReport }, args);
}

async function measure(
  options: ControlPlaneBenchOptions,
  signal: AbortSignal,
  cleanup: ReturnType<typeof createCleanupStack>,
): Promise<ControlPlaneReport> {
  const loop = { concurrency: options.concurrency, seconds: options.seconds, signal };
  const postgres = await serverVersion(options.serverUrl);
  const database = await createBenchDatabase(options.serverUrl);
  cleanup.push(`drop database ${database.name}`, () => database.drop(), 20_000);
  log(`database ${database.name}`);

  log(`baseline: INSERT per op, ${options.concurrency} clients, pool of ${options.poolSize}`);
  const baseline = await runBaseline(database.url, options.poolSize, loop, warmUpSeconds);

  const db = createPgDatabase({ logger: silentLogger() }, { connectionString: database.url, maxConnections: options.poolSize, applicationName: 'te-bench' });
  cleanup.push('close the control plane pool', () => db.close());
  await migrate(db, { logger: silentLogger() });
  const dataDir = await mkdtemp(join(tmpdir(), 'te-bench-'));
  cleanup.push('remove the data directory', () => rm(dataDir, { recursive: true, force: true }));
  const config = loadConfig({}, { 'database-url': database.url, 'data-dir': dataDir });
  const plane = await createControlPlane(config, { logger: silentLogger() }, { projector: true, db });
  cleanup.push('stop the control plane', () => plane.stop());
  const probe = await connectProjectionLagProbe(database.url, { sampleEvery: 50, pollIntervalMs: 2 });
  cleanup.push('close the lag probe', () => probe.close());

  const deps: PhaseDeps = { transfers: createTransferCommands(plane.commands), jobs: createJobCommands(plane.commands), probe };
  await warmUp(deps, { ...loop, seconds: warmUpSeconds });
  const clients = createClients(options.concurrency);
  log('phase create');
  const create = await runCreatePhase(deps, clients, loop);
  await probe.drain(drainTimeoutMs, signal);
  log('phase lifecycle');
  const lifecycle = await runLifecyclePhase(deps, clients, loop);
  await probe.drain(drainTimeoutMs, signal);
  log('phase chunkProgress');
  const chunkProgress = await runChunkProgressPhase(deps, clients, loop);
  const lastCommandAt = performance.now();
  await probe.drain(drainTimeoutMs, signal);
  await withTimeout(plane.projector!.waitForPosition(await plane.eventLog.headPosition(), drainTimeoutMs), drainTimeoutMs + 1000, 'projection catch-up', signal);
  const catchUpMs = performance.now() - lastCommandAt;

  return buildReport({
    phases: { create, lifecycle, chunkProgress },
    baseline,
    lagSamplesMs: probe.samplesMs,
    lagMetricP99Ms: await projectionLagMetricP99Ms(plane.metrics.registry),
    catchUpMs,
    concurrency: options.concurrency,
    seconds: options.seconds,
    poolSize: options.poolSize,
    machine: { ...describeMachine(), postgres },
  });
}
