import { assertNever } from '../commands/decider.ts';
import type { SqlExecutor } from '../infra/postgres/sqlDatabase.ts';
import { isTransferScoped, type Projection, type ProjectedEvent, type TransferScopedEvent } from './projection.ts';
import { keyOf, loadRows, storeRows, type RowTable } from './rowBatch.ts';

/** A te_transfers row as the projection folds it (progress is a generated column). */
export interface TransferRow {
  transfer_id: string;
  status: string;
  name: string | null;
  source: unknown;
  total_bytes: number | null;
  piece_length: number | null;
  piece_count: number | null;
  nodes_total: number;
  nodes_completed: number;
  nodes_failed: number;
  chunks_verified: number;
  bytes_verified: number;
  bytes_origin: number;
  bytes_peer: number;
  bytes_cas: number;
  failure_reason: string | null;
  request_id: string;
  created_by: string;
  created_at: string | Date;
  updated_at: string | Date;
}

const table: RowTable<TransferRow> = {
  table: 'te_transfers',
  key: ['transfer_id'],
  columns: [
    'transfer_id', 'status', 'name', 'source', 'total_bytes', 'piece_length', 'piece_count', 'nodes_total', 'nodes_completed',
    'nodes_failed', 'chunks_verified', 'bytes_verified', 'bytes_origin', 'bytes_peer', 'bytes_cas', 'failure_reason',
    'request_id', 'created_by', 'created_at', 'updated_at',
  ],
};

/** One event applied to one transfer's row; undefined means the event does not touch it. */
export function foldTransferRow(row: TransferRow | undefined, event: TransferScopedEvent): TransferRow | undefined {
  const at = event.metadata.occurredAt;
  if (event.type === 'TransferRequested') {
    if (row !== undefined) return row; // a replayed creation never overwrites
    return {
      transfer_id: event.data.transferId, status: 'requested', name: event.data.name, source: event.data.source,
      total_bytes: null, piece_length: null, piece_count: null, nodes_total: 0, nodes_completed: 0, nodes_failed: 0,
      chunks_verified: 0, bytes_verified: 0, bytes_origin: 0, bytes_peer: 0, bytes_cas: 0, failure_reason: null,
      request_id: event.metadata.requestId, created_by: event.metadata.actor, created_at: at, updated_at: at,
    };
  }
  if (row === undefined) return undefined;
  const status = (value: string, reason: string | null = null): TransferRow => ({ ...row, status: value, failure_reason: reason, updated_at: at });
  switch (event.type) {
    case 'ManifestPublished':
      return { ...row, total_bytes: event.data.totalBytes, piece_length: event.data.pieceLength, piece_count: event.data.pieceCount, updated_at: at };
    case 'TransferStarted':
    case 'TransferResumed':
      return status('running');
    case 'TransferPaused':
      return status('paused');
    case 'TransferCancelled':
      return status('cancelled', event.data.reason);
    case 'TransferCompleted':
      return status('completed');
    case 'TransferFailed':
      return status('failed', event.data.reason);
    case 'JobAssigned':
      return { ...row, nodes_total: row.nodes_total + 1, updated_at: at };
    case 'ChunksVerified': {
      const column = `bytes_${event.data.source}` as const;
      return {
        ...row,
        chunks_verified: row.chunks_verified + event.data.chunkIndexes.length,
        bytes_verified: row.bytes_verified + event.data.bytes,
        [column]: row[column] + event.data.bytes,
        updated_at: at,
      };
    }
    case 'JobCompleted':
      return { ...row, nodes_completed: row.nodes_completed + 1, updated_at: at };
    case 'JobFailed':
      return { ...row, nodes_failed: row.nodes_failed + 1, updated_at: at };
    case 'ManifestSegmentPublished':
    case 'ManifestCompleted':
    case 'JobLeaseGranted':
    case 'JobAbandoned':
      return undefined;
    default:
      return assertNever(event);
  }
}

/** te_transfers: one row per transfer, with node counts and bytes summed from its jobs' events. */
export const transfersProjection: Projection = {
  name: 'transfers',
  tables: ['te_transfers'],
  async applyBatch(tx: SqlExecutor, all: readonly ProjectedEvent[]) {
    const events = all.filter(isTransferScoped);
    const keys = events.map((event) => ({ transfer_id: event.data.transferId }) as TransferRow);
    const rows = await loadRows(tx, table, keys);
    const touched = new Set<string>();
    for (const event of events) {
      const key = keyOf(table, { transfer_id: event.data.transferId } as TransferRow);
      const next = foldTransferRow(rows.get(key), event);
      if (next === undefined) continue;
      rows.set(key, next);
      touched.add(key);
    }
    await storeRows(tx, table, [...touched].map((key) => rows.get(key)!));
  },
};
