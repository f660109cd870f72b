import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { buildSegmentTorrent, VerifiedChunk, type ContentStore, type ObjectBuilders } from '../cas/index.ts';
import type { TorrentEngine } from '../engine/torrentEngine.ts';
import type { Origin } from '../origin/origin.ts';
import { readStreamRange } from '../origin/origin.ts';
import { planPieceLayout, type PieceLayoutOptions } from '../origin/pieceLayout.ts';
import { readThenStore } from './readThenStore.ts';
import { fileDigestsFromCas } from './artifactDigests.ts';
import type { ProgressReporter } from './progressReporter.ts';
import type { WorkerApi } from './workerApi.ts';

export interface SeedJobDeps {
  api: Pick<WorkerApi, 'manifest' | 'publishManifest' | 'publishSegment' | 'segmentTorrent' | 'completeManifest'>;
  cas: ContentStore;
  engine: Pick<TorrentEngine, 'addSegment'>;
  origin: Origin;
  reporter: Pick<ProgressReporter, 'add'>;
  logger: Logger;
  /** False once the lease is lost: stop reading and writing. */
  isHeld: () => boolean;
  /** The job's: aborted by a drain or a lost lease. */
  signal: AbortSignal;
  onSegmentJoined: (infoHash: string) => void;
  /** Parallel range reads from the origin (default 3). */
  originConcurrency?: number;
  onOriginBytes?: (bytes: number) => void;
  /** The job's objects, written as the pieces are stored (objectBuilder.ts). */
  objects?: ObjectBuilders;
  /** Pins the layout planPieceLayout chooses (tests); a layout published before a restart stands either way. */
  pieceLayout?: PieceLayoutOptions;
}

/** A piece's bytes: from the origin, or a reused chunk already checked against its published digest. */
interface PieceRead {
  bytes: Buffer;
  reused?: VerifiedChunk;
  /** A chunk in the CAS that failed that check: written over. */
  damaged?: boolean;
}

const storeBacklogBytes = 64 * 2 ** 20;

async function allPresent(cas: ContentStore, digests: readonly string[]): Promise<boolean> {
  for (const digest of digests) if (!(await cas.hasChunk(digest))) return false;
  return digests.length > 0;
}

/** Consecutive pieces read from the origin in one range. */
interface PieceGroup {
  first: number;
  count: number;
}

/**
 * The origin is read in ranges of at least this much, each cut into its pieces, the lanes taking
 * the next range as they free up. Read a piece to a range, 512 KiB pieces cost the origin's link a
 * request's round trip each: the origin was read to its end 1-3 s later (bench fleet, 16 nodes at
 * 25 Mbit/s). At 1 GiB, 1 MiB ranges read the origin 8 s slower than 2 MiB ones on a busy host; in
 * 2 MiB ranges the origin sees what it saw when 1 GiB was cut into 2 MiB pieces. Reading each
 * segment as one range per lane was no better: the slowest of the three held its segment back.
 * docs/benchmarks.md, "Sixteen nodes: where the leechers' links go; smaller pieces".
 */
const originReadBytes = 2 * 2 ** 20;

/** The artifact's pieces in ranges of about `readBytes`, none across a segment's end: a segment waits for no read of the next. */
export function readGroups(layout: { pieceLength: number; pieceCount: number; segmentPieces: number }, readBytes: number): PieceGroup[] {
  const perGroup = Math.max(1, Math.floor(readBytes / layout.pieceLength));
  const groups: PieceGroup[] = [];
  for (let segmentStart = 0; segmentStart < layout.pieceCount; segmentStart += layout.segmentPieces) {
    const segmentEnd = Math.min(layout.pieceCount, segmentStart + layout.segmentPieces);
    for (let first = segmentStart; first < segmentEnd; first += perGroup) groups.push({ first, count: Math.min(perGroup, segmentEnd - first) });
  }
  return groups;
}

/**
 * The one job that reads the origin. It publishes the layout as soon as it knows the size, then
 * each segment as soon as its pieces are hashed and stored, and seeds it at once: peers start
 * while the origin is still being read (DESIGN §5, cold start). Pieces of segments already
 * published and present in the CAS (a restarted seed) are not read again.
 *
 * The reads run over the whole artifact, not segment by segment: a segment is published (two api
 * calls, and the engine joining its swarm) while the next one's ranges arrive. With a pause at
 * each segment's end, the origin's link idled for its last ranges and the publication, and a
 * 128 MiB artifact took 17.2 s to read over a link that carries it in 10.7 s.
 */
export async function runSeedJob(transferId: string, deps: SeedJobDeps): Promise<void> {
  const { api, cas, origin, logger } = deps;
  const before = (await api.manifest(transferId)).manifest;
  // What the job's files held before a restart is found again before anything is looked up.
  if (before != null) await deps.objects?.plan(before.pieceLength, before.files);
  // A seed restarted after it completed the manifest has nothing left to read: it seeds from the
  // CAS through the fetch that follows (and re-reads the origin only for chunks it lost).
  if (before?.complete === true && (await allPresent(cas, before.segments.flatMap((segment) => segment?.pieceSha256 ?? [])))) return;
  const { files } = await origin.describe();
  const totalBytes = files.reduce((sum, file) => sum + file.length, 0);
  // A layout published before a restart stands (the api refuses another), even if this version
  // would cut the artifact otherwise: a seed drained by an upgrade goes on where it was.
  const layout =
    before != null && before.totalBytes === totalBytes
      ? { totalBytes, pieceLength: before.pieceLength, pieceCount: before.pieceCount, segmentPieces: before.segmentPieces }
      : planPieceLayout(totalBytes, deps.pieceLayout);
  await api.publishManifest(transferId, { ...layout, files });
  await deps.objects?.plan(layout.pieceLength, files);
  const published = (await api.manifest(transferId)).manifest?.segments ?? [];
  const segmentCount = Math.ceil(layout.pieceCount / layout.segmentPieces);
  const segmentOf = (index: number): number => Math.floor(index / layout.segmentPieces);
  const firstPiece = (segment: number): number => segment * layout.segmentPieces;
  const piecesIn = (segment: number): number => Math.min(layout.segmentPieces, layout.pieceCount - firstPiece(segment));
  const pieceSha256: string[] = new Array<string>(layout.pieceCount);
  const sha1: Buffer[] = new Array<Buffer>(layout.pieceCount);
  const unstored = Array.from({ length: segmentCount }, (_, segment) => piecesIn(segment));

  // A segment published before a restart is read back from the CAS when all its chunks are there.
  const reusable = new Map<number, Promise<boolean>>();
  const reuses = (segment: number): Promise<boolean> => {
    let answer = reusable.get(segment);
    if (answer === undefined) {
      const known = published[segment];
      answer = known == null ? Promise.resolve(false) : Promise.all(known.pieceSha256.map((digest) => cas.hasChunk(digest))).then((present) => present.every(Boolean));
      reusable.set(segment, answer);
    }
    return answer;
  };

  let stopped = false;
  const publishSegment = async (segment: number, lastOfTransfer: boolean): Promise<void> => {
    deps.signal.throwIfAborted();
    if (stopped) return;
    const first = firstPiece(segment);
    const count = piecesIn(segment);
    const length = Math.min(totalBytes, (first + count) * layout.pieceLength) - first * layout.pieceLength;
    const { info, infoHash } = buildSegmentTorrent({ name: `${transferId}.part-${segment}`, pieceLength: layout.pieceLength, length, sha1: sha1.slice(first, first + count) });
    const segmentDigests = pieceSha256.slice(first, first + count);
    await api.publishSegment(transferId, segment, { info: info.toString('base64'), pieceSha256: segmentDigests });
    // A job that stopped meanwhile leaves the swarms it joined; one joined now would be left seeding.
    deps.signal.throwIfAborted();
    await deps.engine.addSegment({ infoHash, torrentFile: await api.segmentTorrent(transferId, segment), pieceSha256: segmentDigests, transferId, lastOfTransfer });
    deps.onSegmentJoined(infoHash);
    logger.debug({ transferId, segment, segmentCount }, 'segment published and seeded');
  };
  // Each segment is published once its pieces are stored, one publication after another, in the
  // order they are stored. In index order, one slow read held back every segment after its own:
  // bench fleet (16 nodes at 12.5 Mbit/s) caught one of the three origin connections crawling, a
  // packet or two at a time after losses at the link's full queue: 12 s for a 1 MiB piece the
  // others read in 1.3 s, three times in one run, and the fleet got the segments in bursts. The last
  // one published tells the engine the origin was read to its end (superSeeding.ts).
  let publishing = Promise.resolve();
  let publishFailure: { error: unknown } | undefined;
  const stored: number[] = [];
  let handedOut = 0;
  const publishOnceStored = (segment: number): void => {
    if (publishFailure !== undefined || unstored[segment] !== 0) return;
    stored.push(segment);
    publishing = publishing.then(() => {
      // Of the segments stored by now, the first in the artifact: stores finish in any order.
      const next = Math.min(...stored);
      stored.splice(stored.indexOf(next), 1);
      return publishSegment(next, ++handedOut === segmentCount);
    });
    publishing.catch((error: unknown) => void (publishFailure ??= { error }));
  };

  // Three, not four: four connections into a link's queue lost packets together often enough that
  // one range waited out TCP's retransmission timeouts, and the first segment, which every other
  // node waits for, came 7.9-8.3 s after the seed began reading instead of 3.2-3.4 s (bench fleet
  // at 25 Mbit/s; at 100 Mbit/s three still read the origin as fast as four). docs/benchmarks.md.
  const reads = deps.originConcurrency ?? 3;
  const groups = readGroups(layout, originReadBytes);
  const readReused = async (segment: number, index: number): Promise<PieceRead> => {
    const expected = published[segment]!.pieceSha256[index - firstPiece(segment)]!;
    const bytes = await cas.readChunk(expected);
    const checked = VerifiedChunk.check(expected, bytes);
    if ('chunk' in checked) return { bytes, reused: checked.chunk };
    // Damaged since it was stored: read from the origin again and written over, not served to peers.
    logger.warn({ transferId, index, sha256: expected }, 'a stored chunk no longer matches its digest; it is read from the origin again');
    return { bytes: (await readOrigin({ first: index, count: 1 }))[0]!, damaged: true };
  };
  const read = async (group: PieceGroup): Promise<PieceRead[]> => {
    deps.signal.throwIfAborted();
    if (publishFailure !== undefined) throw publishFailure.error;
    const segment = segmentOf(group.first);
    if (await reuses(segment)) {
      const pieces: PieceRead[] = [];
      for (let index = group.first; index < group.first + group.count; index++) pieces.push(await readReused(segment, index));
      return pieces;
    }
    return (await readOrigin(group)).map((bytes) => ({ bytes }));
  };
  /** One range of the origin, cut into the group's pieces. */
  const readOrigin = async (group: PieceGroup): Promise<Buffer[]> => {
    const offset = group.first * layout.pieceLength;
    const bytes = await readStreamRange(origin, files, offset, Math.min(group.count * layout.pieceLength, totalBytes - offset));
    deps.onOriginBytes?.(bytes.length);
    return Array.from({ length: group.count }, (_, i) => bytes.subarray(i * layout.pieceLength, (i + 1) * layout.pieceLength));
  };
  const storePiece = async (index: number, { bytes, reused, damaged = false }: PieceRead): Promise<void> => {
    // The origin is the reference: its bytes are hashed once, here, and stored under that digest.
    const chunk = reused ?? VerifiedChunk.of(bytes);
    sha1[index] = createHash('sha1').update(bytes).digest();
    pieceSha256[index] = chunk.sha256;
    deps.signal.throwIfAborted();
    // Written once, into the artifact's file, where it is held (objectBuilders.ts); a reused
    // chunk is in the CAS already, and a damaged one is written over in chunks/.
    if (deps.objects === undefined || damaged) await cas.putVerifiedChunk(chunk, { replace: damaged });
    else if (reused === undefined) await deps.objects.storePiece(index, chunk);
    deps.objects?.pieceStored(index, chunk.sha256);
    deps.reporter.add(reused === undefined ? 'origin' : 'cas', index);
    const segment = segmentOf(index);
    unstored[segment]!--;
    publishOnceStored(segment);
  };
  // A group's pieces are stored side by side; every store begun is waited for before a failure is
  // passed on, so that nothing is written after the job returns (readThenStore).
  const store = async (group: PieceGroup, pieces: PieceRead[]): Promise<void> => {
    const outcomes = await Promise.allSettled(pieces.map((piece, i) => storePiece(group.first + i, piece)));
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  };
  // Stores wait on fsync behind every other writer on the disk: while the reads go on, up to
  // 64 MiB of pieces (one range, if a range is larger) may wait for theirs beside the ones being read.
  const groupBytes = Math.max(...groups.map((group) => group.count)) * layout.pieceLength;
  const held = reads + Math.max(1, Math.floor(storeBacklogBytes / groupBytes));
  try {
    await readThenStore(groups, { reads, held }, read, store);
  } catch (error) {
    // No segment is published after a failure, and the one under way ends before this returns:
    // the job runner leaves the swarms the job joined, and one joined later would be left seeding.
    stopped = true;
    await publishing.catch(() => undefined);
    // A job stopped (drained, its lease lost) closes its origin, which fails the reads in flight
    // (jobRunner.ts): the stop is what happened, and how the job is classified, not the origin.
    deps.signal.throwIfAborted();
    throw error;
  }
  await publishing;

  // Hashed as the pieces were stored (objectBuilder.ts); read back only when that could not be done.
  const digests = (await deps.objects?.sha256s(pieceSha256)) ?? (await fileDigestsFromCas(cas, files, pieceSha256));
  await api.completeManifest(transferId, files.map((file, i) => ({ path: file.path, length: file.length, sha256: digests[i]! })));
}
