/** Events of the `transfer-<id>` stream. Plain data; the union is closed by `type`. */

export type TransferSource =
  | { kind: 'magnet'; magnetURI: string; infoHash: string }
  | { kind: 'url'; url: string }
  | { kind: 's3'; bucket: string; key: string };

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

export type ManifestPublished = {
  type: 'ManifestPublished';
  data: { transferId: string; totalBytes: number; pieceLength: number; pieceCount: number };
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
  | TransferStarted
  | TransferPaused
  | TransferResumed
  | TransferCancelled
  | TransferCompleted
  | TransferFailed;

export const transferStreamId = (transferId: string): string => `transfer-${transferId}`;
