import { assertNever } from '../commands/decider.ts';
import type { Projection, ProjectedEvent } from './projection.ts';
import type { SqlExecutor } from '../infra/postgres/sqlDatabase.ts';

/** te_transfers: one row per transfer, with node counts and bytes summed from its jobs' events. */
export const transfersProjection: Projection = {
  name: 'transfers',
  tables: ['te_transfers'],
  async apply(tx: SqlExecutor, event: ProjectedEvent) {
    const at = event.metadata.occurredAt;
    const id = event.data.transferId;
    const setStatus = (status: string, reason: string | null = null) =>
      tx.query('UPDATE te_transfers SET status = $2, failure_reason = $3, updated_at = $4 WHERE transfer_id = $1', [id, status, reason, at]);
    switch (event.type) {
      case 'TransferRequested':
        await tx.query(
          `INSERT INTO te_transfers (transfer_id, status, name, source, request_id, created_by, created_at, updated_at)
           VALUES ($1, 'requested', $2, $3::jsonb, $4, $5, $6, $6) ON CONFLICT (transfer_id) DO NOTHING`,
          [id, event.data.name, JSON.stringify(event.data.source), event.metadata.requestId, event.metadata.actor, at],
        );
        return;
      case 'ManifestPublished':
        await tx.query(
          'UPDATE te_transfers SET total_bytes = $2, piece_length = $3, piece_count = $4, updated_at = $5 WHERE transfer_id = $1',
          [id, event.data.totalBytes, event.data.pieceLength, event.data.pieceCount, at],
        );
        return;
      case 'TransferStarted':
      case 'TransferResumed':
        await setStatus('running');
        return;
      case 'TransferPaused':
        await setStatus('paused');
        return;
      case 'TransferCancelled':
        await setStatus('cancelled', event.data.reason);
        return;
      case 'TransferCompleted':
        await setStatus('completed');
        return;
      case 'TransferFailed':
        await setStatus('failed', event.data.reason);
        return;
      case 'JobAssigned':
        await tx.query('UPDATE te_transfers SET nodes_total = nodes_total + 1, updated_at = $2 WHERE transfer_id = $1', [id, at]);
        return;
      case 'ChunksVerified': {
        const column = `bytes_${event.data.source}` as const;
        await tx.query(
          `UPDATE te_transfers SET chunks_verified = chunks_verified + $2, bytes_verified = bytes_verified + $3,
                  ${column} = ${column} + $3, updated_at = $4 WHERE transfer_id = $1`,
          [id, event.data.chunkIndexes.length, event.data.bytes, at],
        );
        return;
      }
      case 'JobCompleted':
        await tx.query('UPDATE te_transfers SET nodes_completed = nodes_completed + 1, updated_at = $2 WHERE transfer_id = $1', [id, at]);
        return;
      case 'JobFailed':
        await tx.query('UPDATE te_transfers SET nodes_failed = nodes_failed + 1, updated_at = $2 WHERE transfer_id = $1', [id, at]);
        return;
      case 'JobLeaseGranted':
      case 'JobAbandoned':
        return;
      default:
        assertNever(event);
    }
  },
};
