/**
 * `npm run bench -- fleet [options] [--json]` (as root): N node hosts and an origin host in
 * network namespaces with tc-shaped links; the same distribution with TorrentEdge, direct HTTP
 * pulls, stock webtorrent and aria2c. See docs/benchmarks.md for the method and the figures.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { generateArtifact } from '../../src/demo/generateArtifact.ts';
import { runBench, type CleanupStack } from '../lib/benchMain.ts';
import { describeMachine } from '../lib/machine.ts';
import { bittorrent } from './bittorrent.ts';
import { renderCdf } from './cdfSvg.ts';
import { direct } from './direct.ts';
import { lowerBoundSeconds, type SystemResult } from './metrics.ts';
import { buildFleetNetwork, removeFleetNetwork } from './network.ts';
import { parseOptions, usage, type FleetOptions, type SystemName } from './options.ts';
import { startOrigin } from './origin.ts';
import { formatReport, type FleetReport } from './report.ts';
import { takeRunLock } from './runLock.ts';
import { runSystem } from './runSystem.ts';
import type { FleetSystem } from './system.ts';
import { torrentedge } from './torrentedge.ts';
import { webtorrent } from './webtorrent.ts';

const log = (message: string): void => console.error(`[bench fleet] ${message}`);
const systems: Record<SystemName, FleetSystem> = { torrentedge, direct, webtorrent, bittorrent };

export function main(args: string[]): Promise<number> {
  return runBench({ log, usage, parseOptions, measure, formatReport }, args);
}

async function measure(options: FleetOptions, signal: AbortSignal, cleanup: CleanupStack): Promise<FleetReport> {
  if (process.getuid?.() !== 0) throw new Error('the fleet benchmark builds network namespaces: run it as root');
  cleanup.push('release the run lock', await takeRunLock());
  const lowerBound = lowerBoundSeconds(options);
  const timeoutMs = 1000 * (options.timeoutSeconds ?? 2 * options.nodes * lowerBound + 60);
  const workRoot = await mkdtemp(join(tmpdir(), 'tefleet-'));
  cleanup.push(`remove ${workRoot}`, () => rm(workRoot, { recursive: true, force: true }), 60_000);
  cleanup.push('remove the namespaces and links', () => removeFleetNetwork(), 30_000);
  const network = await buildFleetNetwork(options);
  log(`${options.nodes} nodes at ${options.nodeMbit} Mbit/s, origin ${options.originMbit} Mbit/s${options.racks > 0 ? `, ${options.racks} racks (uplinks ${options.rackMbit ?? 'unshaped'} Mbit/s)` : ''}; T_lb ${lowerBound.toFixed(1)} s`);

  const artifactPath = join(workRoot, 'origin', 'artifact.bin');
  await mkdir(dirname(artifactPath), { recursive: true });
  const sha256 = await generateArtifact(artifactPath, options.sizeBytes);
  const artifact = { path: artifactPath, name: 'artifact.bin', bytes: options.sizeBytes, sha256 };
  const origin = await startOrigin(network, artifactPath, cleanup);
  signal.throwIfAborted();

  const results: Partial<Record<SystemName, SystemResult>> = {};
  for (const name of options.systems) {
    log(`${name}: starting (bounded at ${(timeoutMs / 1000).toFixed(0)} s)`);
    try {
      const result = await runSystem(systems[name], { network, artifact, origin, log, databaseServerUrl: options.databaseServerUrl, workerNodeArgs: options.workerNodeArgs }, join(workRoot, name), options, lowerBound, timeoutMs, signal);
      results[name] = result;
      log(`${name}: last node ${result.lastNodeSeconds?.toFixed(1) ?? 'unfinished'} s, origin ${result.originRatio.toFixed(2)} F, verified ${result.allVerified}`);
    } catch (error) {
      if (signal.aborted) throw error;
      log(`${name}: failed: ${error instanceof Error ? error.message : String(error)}`);
      results[name] = failedResult(options, error);
    }
  }
  const ran = Object.values(results);
  const report: FleetReport = {
    nodes: options.nodes,
    artifactBytes: options.sizeBytes,
    lowerBoundSeconds: lowerBound,
    networkBound: ran.every((result) => result.networkBound),
    shaping: { nodeMbit: options.nodeMbit, originMbit: options.originMbit, racks: options.racks, rackMbit: options.rackMbit ?? null },
    machine: describeMachine(),
    systems: results,
  };
  if (options.plotPath !== undefined) {
    await mkdir(dirname(options.plotPath), { recursive: true });
    await writeFile(options.plotPath, renderCdf(report));
    log(`CDF written to ${options.plotPath}`);
  }
  return report;
}

function failedResult(options: FleetOptions, error: unknown): SystemResult {
  return {
    finishedNodes: 0, lastNodeSeconds: null, p50Seconds: null, p99Seconds: null, lastNodeRatio: null, p50Ratio: null, p99Ratio: null,
    nodeSeconds: Array.from({ length: options.nodes }, () => null), originBytes: 0, originRatio: 0, originWireRatio: 0, crossRack: [], nodeUploadRatios: [],
    peerUploadUtilisation: 0, nodeDownloadUtilisation: 0, linkTimeline: [], cpuSecondsPerGiBPerNode: 0, nodeCpuSecondsPerGiB: [], peakWorkerRssBytes: 0, hostBusyPercent: 0, fleetBusyPercent: 0,
    networkBound: false, allVerified: false, error: error instanceof Error ? error.message : String(error),
  };
}
