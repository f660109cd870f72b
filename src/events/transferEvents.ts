/** Events of the `transfer-<id>` stream. Plain data; the union is closed by `type`. */

export type TransferSource =
  | { kind: 'magnet'; magnetURI: string; infoHash: string }
  | { kind: 'url'; url: string }
  | { kind: 's3'; bucket: string; key: string }
  /** `torrentedge push`: a file or directory on one node, which seeds it. */
  | { kind: 'push'; nodeId: string; path: string };

export type TransferTargets =
  | { kind: 'all' }
  | { kind: 'nodes'; nodeIds: string[] }
  | { kind: 'selector'; labels: Record<string, string> };

export type TransferRequested = {
  type: 'TransferRequested';
  data: {
    transferId: string;
    name: string | null;
    source: TransferSource;
    targets: TransferTargets;
    /** Where each node materializes the artifact; null means the worker's default. */
    destination: string | null;
  };
};

/** One file of an artifact: a range of the artifact's byte stream (files concatenated in manifest order). */
export interface ArtifactFile {
  /** A relative POSIX path, checked by isSafeArtifactPath: never absolute, never `..`. */
  path: string;
  length: number;
  /**
   * The origin's version of the file when it was described (an ETag, an S3 version, a size and
   * mtime): a seed restarted against a changed origin publishes another layout, which conflicts,
   * instead of mixing old and new bytes.
   */
  version?: string;
}

/**
 * The artifact's layout, published by the seed as soon as it knows the size: the stream is cut
 * into `pieceLength` pieces (= CAS chunks), and every `segmentPieces` pieces form one segment
 * torrent, published as soon as the seed has hashed it (schema v2; v1 had one implicit segment
 * and one file).
 */
export type ManifestPublished = {
  type: 'ManifestPublished';
  data: {
    transferId: string;
    totalBytes: number;
    pieceLength: number;
    pieceCount: number;
    segmentPieces: number;
    files: ArtifactFile[];
  };
};

/**
 * One segment's hashes: the SHA-256 of each of its pieces (what nodes verify against) and the
 * BitTorrent v1 info dictionary (bencoded, base64) whose SHA-1 piece hashes the swarm speaks.
 */
export type ManifestSegmentPublished = {
  type: 'ManifestSegmentPublished';
  data: { transferId: string; segmentIndex: number; infoHash: string; info: string; pieceSha256: string[] };
};

/** Every segment is published and every file's whole-file SHA-256 is known: nodes may materialize. */
export type ManifestCompleted = {
  type: 'ManifestCompleted';
  data: { transferId: string; files: Array<ArtifactFile & { sha256: string }> };
};

export type TransferStarted = { type: 'TransferStarted'; data: { transferId: string } };
export type TransferPaused = { type: 'TransferPaused'; data: { transferId: string } };
export type TransferResumed = { type: 'TransferResumed'; data: { transferId: string } };
export type TransferCancelled = { type: 'TransferCancelled'; data: { transferId: string; reason: string | null } };
export type TransferCompleted = { type: 'TransferCompleted'; data: { transferId: string } };
export type TransferFailed = { type: 'TransferFailed'; data: { transferId: string; reason: string } };

export type TransferEvent =
  | TransferRequested
  | ManifestPublished
  | ManifestSegmentPublished
  | ManifestCompleted
  | TransferStarted
  | TransferPaused
  | TransferResumed
  | TransferCancelled
  | TransferCompleted
  | TransferFailed;

export const transferStreamId = (transferId: string): string => `transfer-${transferId}`;
