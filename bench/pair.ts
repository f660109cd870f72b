/**
 * `npm run bench -- pair [--json]`: one seeder and one leecher, each its own process, fetching
 * an artifact over loopback through the real engine and CAS, against a plain HTTP stream between
 * two processes measured in the same run. See docs/benchmarks.md for the method and the figures.
 */
import { mkdir, mkdtemp, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { generateArtifact } from '../src/demo/generateArtifact.ts';
import type { CleanupStack } from './lib/benchMain.ts';
import { runBench } from './lib/benchMain.ts';
import { describeMachine } from './lib/machine.ts';
import { parseOptions, usage, type PairBenchOptions } from './pair/options.ts';
import { waitForQuietHost } from './pair/hostLoad.ts';
import { buildReport, formatReport, pairRound, type PairReport, type PairRound, type PairSide } from './pair/report.ts';
import { fillSeederStore } from './pair/seederStore.ts';
import { baselineTransfer, torrentEdgeTransfer, type TransferContext } from './pair/transfers.ts';

// Progress goes to stderr in every mode, so stdout carries only the result.
const log = (message: string): void => console.error(`[bench pair] ${message}`);
const seconds = (since: number): string => `${((performance.now() - since) / 1000).toFixed(1)} s`;

const quietWaitMs = 120_000;
const maxAttempts = 3;

export function main(args: string[]): Promise<number> {
  return runBench({ log, usage, parseOptions, measure, formatReport }, args);
}

async function measure(options: PairBenchOptions, signal: AbortSignal, cleanup: CleanupStack): Promise<PairReport> {
  const { size } = options;
  // Copies on disk at once: the artifact (kept for the baseline), the seeder's store, one fetched copy.
  const copies = options.baseline ? 3 : 2;
  const free = await statfs(options.dir).then((stats) => stats.bavail * stats.bsize);
  if (free < copies * size + 2 ** 30) {
    throw new Error(`${options.dir} has ${(free / 2 ** 30).toFixed(1)} GiB free; this run needs ${copies} x ${(size / 2 ** 30).toFixed(2)} GiB and 1 GiB more`);
  }
  const scratch = await mkdtemp(join(options.dir, 'te-bench-pair-'));
  cleanup.push(`remove ${scratch}`, () => rm(scratch, { recursive: true, force: true }), 120_000);
  const artifact = join(scratch, 'artifact.bin');

  let started = performance.now();
  log(`generating ${size} bytes in ${scratch}`);
  const sha256 = await generateArtifact(artifact, size);
  log(`generated in ${seconds(started)}`);
  signal.throwIfAborted();

  started = performance.now();
  const seederRoot = join(scratch, 'seeder-cas');
  const { layout, segments } = await fillSeederStore(artifact, seederRoot, size, options.pieceLength);
  if (!options.baseline) await rm(artifact);
  log(`seeder store filled in ${seconds(started)}: ${layout.pieceCount} pieces of ${layout.pieceLength} B in ${segments.length} segments`);
  signal.throwIfAborted();
  if (options.cpuProfDir !== undefined) await mkdir(options.cpuProfDir, { recursive: true });

  const context: TransferContext = { size, signal, cleanup, log };
  const stores = { seederRoot, leecherRoot: join(scratch, 'leecher-cas'), segments, cpuProfDir: options.cpuProfDir, nodeArgs: options.nodeArgs, engine: options.engine };
  const files = { artifact, sha256, outPath: join(scratch, 'baseline.out') };
  // This machine may be shared: each transfer starts on a quiet host, and one that other
  // processes disturbed anyway is run again (twice at most; the report shows the load it saw).
  const undisturbed = async (what: string, transfer: () => Promise<PairSide>): Promise<PairSide> => {
    for (let attempt = 1; ; attempt++) {
      await waitForQuietHost({ maxCores: options.maxOtherLoad, maxWaitMs: quietWaitMs, signal, log });
      const side = await transfer();
      if (side.otherLoadCores <= options.maxOtherLoad || attempt === maxAttempts) return side;
      log(`${what}: other processes used ${side.otherLoadCores} cores meanwhile; measuring again`);
    }
  };
  const torrentEdge = () => undisturbed('TorrentEdge', () => torrentEdgeTransfer(context, stores));
  const baseline = () => undisturbed('baseline', () => baselineTransfer(context, files));
  const rounds: PairRound[] = [];
  for (let index = 0; index < options.rounds; index++) {
    log(`round ${index + 1} of ${options.rounds}`);
    // Which side goes first alternates, so neither always gets the quieter disk.
    if (options.baseline && index % 2 === 0) {
      const base = await baseline();
      rounds.push(pairRound(await torrentEdge(), base));
    } else {
      const ours = await torrentEdge();
      rounds.push(pairRound(ours, options.baseline ? await baseline() : null));
    }
    signal.throwIfAborted();
  }
  return buildReport({ size, layout, segments: segments.length, rounds, profiled: options.cpuProfDir !== undefined, engine: options.engine, nodeArgs: options.nodeArgs, machine: describeMachine() });
}
