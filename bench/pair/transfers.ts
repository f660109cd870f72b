import { rm } from 'node:fs/promises';
import type { CleanupStack } from '../lib/benchMain.ts';
import { startHostLoad } from './hostLoad.ts';
import { pairSide, type PairSide } from './report.ts';
import { startRole } from './roleProcess.ts';
import type { EngineTuning, HttpClientCalls, HttpServerCalls, LeecherCalls, SeederCalls, SegmentSpec, TransferResult, Usage } from './roleProtocol.ts';
import { workerNodeFlags } from '../../src/workers/workerHeap.ts';

export interface TransferContext {
  size: number;
  signal: AbortSignal;
  cleanup: CleanupStack;
  log: (message: string) => void;
}

/** A stalled transfer fails the run instead of hanging it: far below any rate worth reporting. */
const transferTimeoutMs = (size: number): number => 120_000 + size / 5_000;

/**
 * Times one transfer between two freshly started processes: the serving side's CPU is read just
 * before and just after the fetching side's timed call, and the host's load by anything else
 * over the same interval is recorded beside it.
 */
async function timeTransfer<R extends TransferResult>(
  serverUsage: () => Promise<Usage>,
  fetch: () => Promise<R>,
): Promise<{ transfer: R; side: PairSide }> {
  const before = await serverUsage();
  const parent0 = process.cpuUsage();
  const load = startHostLoad();
  const transfer = await fetch();
  const after = await serverUsage();
  const parent = process.cpuUsage(parent0);
  const ours = pairSide(transfer, before, after, 0).cpuSeconds + (parent.user + parent.system) / 1e6;
  return { transfer, side: pairSide(transfer, before, after, load.stop(ours).otherCores) };
}

/** TorrentEdge: the seeder serves `segments` from its store, the leecher fetches them into an empty one. */
export async function torrentEdgeTransfer(
  context: TransferContext,
  stores: { seederRoot: string; leecherRoot: string; segments: SegmentSpec[]; cpuProfDir: string | undefined; nodeArgs: string[]; engine: EngineTuning },
): Promise<PairSide> {
  const { size, cleanup, log } = context;
  // The seeder and the leecher run as a worker would (src/workers/workerHeap.ts).
  const execArgv = (role: string): string[] => [
    ...workerNodeFlags,
    ...stores.nodeArgs,
    ...(stores.cpuProfDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', stores.cpuProfDir, '--cpu-prof-name', `${role}.${Date.now()}.cpuprofile`]),
  ];
  const seeder = await startRole<SeederCalls>('seeder', new URL('./seeder.ts', import.meta.url), { execArgv: execArgv('seeder'), cleanup, log });
  const leecher = await startRole<LeecherCalls>('leecher', new URL('./leecher.ts', import.meta.url), { execArgv: execArgv('leecher'), cleanup, log });
  const { port } = await seeder.call('setup', { casRoot: stores.seederRoot, segments: stores.segments, engine: stores.engine });
  await leecher.call('setup', { casRoot: stores.leecherRoot, segments: stores.segments, engine: stores.engine });
  log(`TorrentEdge: leecher (pid ${leecher.pid}) fetching from the seeder (pid ${seeder.pid}) at 127.0.0.1:${port}`);
  const { transfer, side } = await timeTransfer(
    () => seeder.call('usage', null),
    () => leecher.call('fetch', { peer: `127.0.0.1:${port}` }, { timeoutMs: transferTimeoutMs(size), signal: context.signal }),
  );
  await leecher.stop();
  await seeder.stop();
  await rm(stores.leecherRoot, { recursive: true, force: true });
  if (transfer.bytes !== size) throw new Error(`the leecher's store holds ${transfer.bytes} bytes of the ${size}-byte artifact`);
  log(`TorrentEdge: ${side.throughputMBps} MB/s, ${side.cpuSecondsPerGiB} CPU s/GiB, leecher peak RSS ${side.fetcher.peakRssMiB} MiB, other load ${side.otherLoadCores} cores`);
  return side;
}

/** The baseline: a plain HTTP GET of the file, hashed with SHA-256 and written to `outPath`. */
export async function baselineTransfer(context: TransferContext, files: { artifact: string; sha256: string; outPath: string }): Promise<PairSide> {
  const { size, cleanup, log } = context;
  const server = await startRole<HttpServerCalls>('http server', new URL('./httpServer.ts', import.meta.url), { cleanup, log });
  const client = await startRole<HttpClientCalls>('http client', new URL('./httpClient.ts', import.meta.url), { cleanup, log });
  const { port } = await server.call('setup', { path: files.artifact });
  log(`baseline: HTTP GET 127.0.0.1:${port}, SHA-256 and write to disk`);
  const { transfer, side } = await timeTransfer(
    () => server.call('usage', null),
    () => client.call('fetch', { url: `http://127.0.0.1:${port}/`, outPath: files.outPath }, { timeoutMs: transferTimeoutMs(size), signal: context.signal }),
  );
  await client.stop();
  await server.stop();
  await rm(files.outPath, { force: true });
  if (transfer.sha256 !== files.sha256 || transfer.bytes !== size) {
    throw new Error(`baseline: received ${transfer.bytes} bytes with SHA-256 ${transfer.sha256}, expected ${size} and ${files.sha256}`);
  }
  log(`baseline: ${side.throughputMBps} MB/s, ${side.cpuSecondsPerGiB} CPU s/GiB, client peak RSS ${side.fetcher.peakRssMiB} MiB, other load ${side.otherLoadCores} cores`);
  return side;
}
