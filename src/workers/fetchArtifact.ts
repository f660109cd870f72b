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
}

export type CompleteManifest = NonNullable<ManifestView['manifest']> & { complete: true };

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
    if (view.status !== 'running' && view.status !== 'requested') throw new Error(`transfer ${transferId} is ${view.status}`);
    const manifest = view.manifest;
    if (manifest !== null) {
      for (const segment of manifest.segments) {
        if (segment === null || joined.has(segment.index)) continue;
        joined.set(segment.index, await joinSegment(transferId, segment, deps));
      }
      const allJoined = joined.size === manifest.segments.length;
      if (allJoined && manifest.complete) {
        await Promise.all([...joined.values()].map((handle) => handle.done));
        return manifest as CompleteManifest;
      }
    }
    await delay(deps.pollMs ?? 200, undefined, { signal: deps.signal });
  }
}

async function joinSegment(
  transferId: string,
  segment: { index: number; firstPiece: number; infoHash: string; pieceSha256: string[] },
  deps: FetchDeps,
): Promise<SegmentHandle> {
  for (const [i, digest] of segment.pieceSha256.entries()) {
    if (await deps.cas.hasChunk(digest)) deps.reporter.add('cas', segment.firstPiece + i);
  }
  const torrentFile = await deps.api.segmentTorrent(transferId, segment.index);
  return deps.engine.addSegment({
    infoHash: segment.infoHash,
    torrentFile,
    pieceSha256: segment.pieceSha256,
    onPieceStored: (index) => deps.reporter.add('peer', segment.firstPiece + index),
  });
}
