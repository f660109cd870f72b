import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { buildSegmentTorrent, type ContentStore, type ObjectBuilders } from '../cas/index.ts';
import type { TorrentEngine } from '../engine/torrentEngine.ts';
import type { Origin } from '../origin/origin.ts';
import { readStreamRange } from '../origin/origin.ts';
import { planPieceLayout } from '../origin/pieceLayout.ts';
import { fileDigestsFromCas } from './artifactDigests.ts';
import type { ProgressReporter } from './progressReporter.ts';
import type { WorkerApi } from './workerApi.ts';

export interface SeedJobDeps {
  api: WorkerApi;
  cas: ContentStore;
  engine: TorrentEngine;
  origin: Origin;
  reporter: ProgressReporter;
  logger: Logger;
  /** False once the lease is lost: stop reading and writing. */
  isHeld: () => boolean;
  /** The job's: aborted by a drain or a lost lease. */
  signal: AbortSignal;
  onSegmentJoined: (infoHash: string) => void;
  /** Parallel range reads from the origin. */
  originConcurrency?: number;
  onOriginBytes?: (bytes: number) => void;
  /** The job's objects, written as the pieces are stored (objectBuilder.ts). */
  objects?: ObjectBuilders;
}

async function allPresent(cas: ContentStore, digests: readonly string[]): Promise<boolean> {
  for (const digest of digests) if (!(await cas.hasChunk(digest))) return false;
  return digests.length > 0;
}

/** Runs `task` over `items` with at most `limit` at a time, in order of start. */
async function forEachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/**
 * The one job that reads the origin. It publishes the layout as soon as it knows the size, then
 * each segment as soon as its pieces are hashed and stored, and seeds it at once: peers start
 * while the origin is still being read (DESIGN §5, cold start). Pieces of segments already
 * published and present in the CAS (a restarted seed) are not read again.
 */
export async function runSeedJob(transferId: string, deps: SeedJobDeps): Promise<void> {
  const { api, cas, origin, logger } = deps;
  const before = (await api.manifest(transferId)).manifest;
  // A seed restarted after it completed the manifest has nothing left to read: it seeds from the
  // CAS through the fetch that follows (and re-reads the origin only for chunks it lost).
  if (before?.complete === true && (await allPresent(cas, before.segments.flatMap((segment) => segment?.pieceSha256 ?? [])))) return;
  const { files } = await origin.describe();
  const totalBytes = files.reduce((sum, file) => sum + file.length, 0);
  const layout = planPieceLayout(totalBytes);
  await api.publishManifest(transferId, { ...layout, files });
  deps.objects?.plan(layout.pieceLength, files);
  const published = (await api.manifest(transferId)).manifest?.segments ?? [];
  const segmentCount = Math.ceil(layout.pieceCount / layout.segmentPieces);
  const pieceSha256: string[] = new Array<string>(layout.pieceCount);

  for (let segment = 0; segment < segmentCount; segment++) {
    deps.signal.throwIfAborted();
    const first = segment * layout.segmentPieces;
    const indexes = Array.from({ length: Math.min(layout.segmentPieces, layout.pieceCount - first) }, (_, i) => first + i);
    const sha1: Buffer[] = new Array<Buffer>(indexes.length);
    const known = published[segment];
    const reuse = known != null && (await Promise.all(known.pieceSha256.map((digest) => cas.hasChunk(digest)))).every(Boolean);
    await forEachLimited(indexes, deps.originConcurrency ?? 4, async (index) => {
      const offset = index * layout.pieceLength;
      const length = Math.min(layout.pieceLength, totalBytes - offset);
      const bytes = reuse ? await cas.readChunk(known.pieceSha256[index - first]!) : await readStreamRange(origin, files, offset, length);
      if (!reuse) deps.onOriginBytes?.(length);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      sha1[index - first] = createHash('sha1').update(bytes).digest();
      pieceSha256[index] = sha256;
      deps.signal.throwIfAborted();
      await cas.putChunk(sha256, bytes);
      deps.objects?.pieceStored(index, sha256);
      deps.reporter.add(reuse ? 'cas' : 'origin', index);
    });
    const length = Math.min(totalBytes, (first + indexes.length) * layout.pieceLength) - first * layout.pieceLength;
    const { info, infoHash } = buildSegmentTorrent({ name: `${transferId}.part-${segment}`, pieceLength: layout.pieceLength, length, sha1 });
    const segmentDigests = pieceSha256.slice(first, first + indexes.length);
    await api.publishSegment(transferId, segment, { info: info.toString('base64'), pieceSha256: segmentDigests });
    await deps.engine.addSegment({ infoHash, torrentFile: await api.segmentTorrent(transferId, segment), pieceSha256: segmentDigests });
    deps.onSegmentJoined(infoHash);
    logger.debug({ transferId, segment, segmentCount }, 'segment published and seeded');
  }

  // Hashed as the pieces were stored (objectBuilder.ts); read back only when that could not be done.
  const digests = (await deps.objects?.sha256s(pieceSha256)) ?? (await fileDigestsFromCas(cas, files, pieceSha256));
  await api.completeManifest(transferId, files.map((file, i) => ({ path: file.path, length: file.length, sha256: digests[i]! })));
}
