import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { cpus } from 'node:os';
import { createCleanupStack } from '../lib/cleanupStack.ts';
import { startCpuMeter } from '../lib/cpuMeter.ts';
import { summarize, type SystemResult } from './metrics.ts';
import { counterDelta, readCounters } from './network.ts';
import type { FleetOptions } from './options.ts';
import { startLinkSampler } from './linkSampler.ts';
import { startProcessSampler } from './processSampler.ts';
import type { FleetContext, FleetSystem } from './system.ts';

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * One system's run: prepare (not timed), then the clock, counters, CPU and process sampling
 * around the distribution only. The system's processes are stopped before the SHA-256 check, so
 * a client's write cache (aria2's) has reached the file; its folder is removed afterwards.
 */
export async function runSystem(system: FleetSystem, context: Omit<FleetContext, 'workDir'>, workDir: string, options: FleetOptions, lowerBound: number, timeoutMs: number, signal: AbortSignal): Promise<SystemResult> {
  await mkdir(workDir, { recursive: true });
  const cleanup = createCleanupStack(context.log);
  try {
    const prepared = await system.prepare({ ...context, workDir }, cleanup);
    signal.throwIfAborted();
    const sampler = startProcessSampler(() => prepared.rootPids());
    const originSampler = startProcessSampler(() => [context.origin.pid, ...prepared.originPids()]);
    await Promise.all([sampler.mark(), originSampler.mark()]);
    const origin0 = await prepared.originPayloadBytes();
    const counters0 = await readCounters();
    const cpu = startCpuMeter();
    const harness0 = process.cpuUsage();
    const links = startLinkSampler(context.network);
    const started = performance.now();
    const nodeSeconds = await prepared.distribute(started + timeoutMs, signal).finally(() => links.stop());
    const linkTimeline = links.samples(nodeSeconds);
    const elapsedSeconds = (performance.now() - started) / 1000;
    const { hostBusyPercent } = cpu.stop();
    const harness = process.cpuUsage(harness0);
    const counters = counterDelta(counters0, await readCounters());
    const processes = await sampler.stop();
    const originCpuSeconds = (await originSampler.stop()).reduce((sum, use) => sum + use.cpuSeconds, 0);
    // The control plane and tracker run in this process: part of the fleet's CPU, not the nodes'.
    const ownCpuSeconds = originCpuSeconds + (harness.user + harness.system) / 1e6 + processes.reduce((sum, use) => sum + use.cpuSeconds, 0);
    const fleetBusyPercent = (100 * ownCpuSeconds) / (elapsedSeconds * cpus().length);
    const originBytes = (await prepared.originPayloadBytes()) - origin0;
    const files = context.network.nodes.map((_, i) => prepared.nodeFile(i));
    await cleanup.runAll();
    const verified = await Promise.all(files.map((file) => sha256Of(file).then((digest) => digest === context.artifact.sha256, () => false)));
    return summarize({ nodeSeconds, elapsedSeconds, originBytes, counters, processes, hostBusyPercent, fleetBusyPercent, verified, linkTimeline }, context.network, options, lowerBound);
  } finally {
    await cleanup.runAll();
    await rm(workDir, { recursive: true, force: true });
  }
}
