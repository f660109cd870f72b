import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { ContentStore } from '../cas/index.ts';
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
  signal: AbortSignal;
  /** How often the manifest is polled for new segments. */
  pollMs?: number;
  onBytes?: (source: 'peer' | 'cas', bytes: number) => void;
}

export type CompleteManifest = NonNullable<ManifestView['manifest']> & { complete: true };

/** The transfer was cancelled, failed or completed meanwhile: the job stops without failing. */
export class TransferEndedError extends Error {
  override name = 'TransferEndedError';
}

const endedStatuses = new Set(['completed', 'failed', 'cancelled']);

/**
 * Joins each segment's swarm as soon as the seed publishes it and waits until every piece is in
 * the CAS. Pieces the CAS already holds (another transfer, or before a restart) are reported as
 * CAS hits and never downloaded. Resolves with the complete manifest (file digests known).
 */
export async function fetchArtifact(transferId: string, deps: FetchDeps): Promise<CompleteManifest> {
  const joined = new Map<number, SegmentHandle>();
  for (;;) {
    if (deps.signal.aborted) throw deps.signal.reason as Error;
    if (!deps.isHeld()) throw new Error('the lease was lost; the download stops');
    const view = await deps.api.manifest(transferId);
    if (endedStatuses.has(view.status)) throw new TransferEndedError(`transfer ${transferId} is ${view.status}`);
    const manifest = view.manifest;
    // A paused transfer joins no new segment; the swarms already joined keep their pieces.
    if (manifest !== null && view.status !== 'paused') {
      for (const segment of manifest.segments) {
        if (segment === null || joined.has(segment.index)) continue;
        joined.set(segment.index, await joinSegment(transferId, segment, manifest, deps));
      }
      const allJoined = joined.size === manifest.segments.length;
      if (allJoined && manifest.complete) {
        await untilAborted(Promise.all([...joined.values()].map((handle) => handle.done)), deps.signal);
        return manifest as CompleteManifest;
      }
    }
    await delay(deps.pollMs ?? 200, undefined, { signal: deps.signal });
  }
}

/** A drain or a lost lease must not wait behind a slow swarm. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
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
    deps.reporter.add('cas', segment.firstPiece + i);
    deps.onBytes?.('cas', bytesOf(segment.firstPiece + i));
  }
  const torrentFile = await deps.api.segmentTorrent(transferId, segment.index);
  return deps.engine.addSegment({
    infoHash: segment.infoHash,
    torrentFile,
    pieceSha256: segment.pieceSha256,
    onPieceStored: (index) => {
      deps.reporter.add('peer', segment.firstPiece + index);
      deps.onBytes?.('peer', bytesOf(segment.firstPiece + index));
    },
  });
}
