import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { ContentStore, ObjectBuilders, VerifiedChunk } from '../cas/index.ts';
import type { SegmentHandle, TorrentEngine } from '../engine/torrentEngine.ts';
import type { ProgressReporter } from './progressReporter.ts';
import type { ManifestView, WorkerApi } from './workerApi.ts';

export interface FetchDeps {
  api: WorkerApi;
  cas: ContentStore;
  engine: TorrentEngine;
  reporter: ProgressReporter;
  logger: Logger;
  isHeld: () => boolean;
  /** The job's: aborted by a drain or a lost lease. */
  signal: AbortSignal;
  /** Each segment joined, so the job leaves its swarm however it ends. */
  onSegmentJoined: (infoHash: string) => void;
  /** How often the manifest is polled (a 304 while nothing changed). */
  pollMs?: number;
  onBytes?: (source: 'peer' | 'cas', bytes: number) => void;
  /** The job's objects, written as the pieces land (objectBuilder.ts). */
  objects?: ObjectBuilders;
}

export type CompleteManifest = NonNullable<ManifestView['manifest']> & { complete: true };

/** The transfer was cancelled, failed or completed meanwhile: the job stops without failing. */
export class TransferEndedError extends Error {
  override name = 'TransferEndedError';
}

const endedStatuses = new Set(['completed', 'failed', 'cancelled']);
export const isEndedStatus = (status: string): boolean => endedStatuses.has(status);

/**
 * Joins each segment's swarm as soon as the seed publishes it and waits until every piece is in
 * the CAS, watching the transfer and the lease all the while. Pieces the CAS already holds
 * (another transfer, or before a restart) are reported as CAS hits and never downloaded. Resolves
 * with the complete manifest (file digests known).
 */
export async function fetchArtifact(transferId: string, deps: FetchDeps): Promise<CompleteManifest> {
  const joined = new Map<number, SegmentHandle>();
  let allDone: Promise<unknown> | undefined;
  let settled = false;
  for (;;) {
    if (deps.signal.aborted) throw deps.signal.reason as Error;
    const view = await deps.api.manifest(transferId);
    if (isEndedStatus(view.status)) throw new TransferEndedError(`transfer ${transferId} is ${view.status}`);
    const manifest = view.manifest;
    // A paused transfer joins no new segment; the swarms already joined keep their pieces.
    if (manifest !== null) await deps.objects?.plan(manifest.pieceLength, manifest.files);
    if (manifest !== null && view.status !== 'paused') {
      for (const segment of manifest.segments) {
        if (segment === null || joined.has(segment.index)) continue;
        const handle = await joinSegment(transferId, segment, manifest, deps);
        joined.set(segment.index, handle);
        deps.onSegmentJoined(handle.infoHash);
      }
      if (joined.size === manifest.segments.length && manifest.complete) {
        allDone ??= Promise.all([...joined.values()].map((handle) => handle.done)).then(() => (settled = true));
        // A failed segment (refused by the SHA-256 gate) rejects here.
        await Promise.race([allDone, delay(deps.pollMs ?? 500, undefined, { signal: deps.signal }).catch(() => undefined)]);
        if (settled) return manifest as CompleteManifest;
        continue;
      }
    }
    await delay(deps.pollMs ?? 500, undefined, { signal: deps.signal }).catch(() => undefined);
  }
}

async function joinSegment(
  transferId: string,
  segment: { index: number; firstPiece: number; infoHash: string; pieceSha256: string[] },
  manifest: { pieceLength: number; totalBytes: number },
  deps: FetchDeps,
): Promise<SegmentHandle> {
  const bytesOf = (index: number): number => Math.min(manifest.pieceLength, manifest.totalBytes - index * manifest.pieceLength);
  for (const [i, digest] of segment.pieceSha256.entries()) {
    if (!(await deps.cas.hasChunk(digest))) continue;
    deps.objects?.pieceStored(segment.firstPiece + i, digest);
    deps.reporter.add('cas', segment.firstPiece + i);
    deps.onBytes?.('cas', bytesOf(segment.firstPiece + i));
  }
  const torrentFile = await deps.api.segmentTorrent(transferId, segment.index);
  return deps.engine.addSegment({
    infoHash: segment.infoHash,
    torrentFile,
    pieceSha256: segment.pieceSha256,
    transferId,
    ...(deps.objects === undefined ? {} : { storePiece: (index: number, chunk: VerifiedChunk) => deps.objects!.storePiece(segment.firstPiece + index, chunk) }),
    onPieceStored: (index) => {
      deps.objects?.pieceStored(segment.firstPiece + index, segment.pieceSha256[index]!);
      deps.reporter.add('peer', segment.firstPiece + index);
      deps.onBytes?.('peer', bytesOf(segment.firstPiece + index));
    },
  });
}
