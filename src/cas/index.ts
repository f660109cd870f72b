/** The content-addressable store and its webtorrent adapter: the module's public surface. */
export { ContentStore, type ContentStoreOptions, type PutChunkOutcome } from './contentStore.ts';
export { CasChunkStore, PieceVerifier, type CasChunkStoreOptions, type ChunkGetOptions } from './casChunkStore.ts';
export { VerifiedChunk } from './verifiedChunk.ts';
export { ChunkReadCache, type ChunkReadCacheOptions } from './chunkReadCache.ts';
export { createBufferPool, type BufferPool } from './bufferPool.ts';
export { ObjectBuilder } from './objectBuilder.ts';
export { createObjectBuilders, type ObjectBuilders, type ObjectBuildersOptions } from './objectBuilders.ts';
export type { OpenedChunk } from './contentStore.ts';
export { verifiedBitfield } from './verifiedBitfield.ts';
export { buildSegmentTorrent, chunkSha1, type SegmentTorrent, type SegmentTorrentInput } from './segmentTorrent.ts';
export { createCasMetrics, type CasMetrics, type CasStats } from './casMetrics.ts';
export { sanitizeRelativePath, resolveInside } from './safePath.ts';
export type { ArtifactFile } from './artifactPlan.ts';
export type { MaterializeRequest, MaterializedFile } from './materialize.ts';
export type { PinRefs } from './pins.ts';
export type { GarbageCollectOptions, GarbageCollectResult, RemovedEntry } from './garbageCollect.ts';
export {
  ChunkDigestMismatchError,
  ChunkNotFoundError,
  FileDigestMismatchError,
  MaterializeConflictError,
  UnsafePathError,
} from './casErrors.ts';
