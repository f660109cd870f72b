import { assertNever } from '../commands/decider.ts';
import type { SqlExecutor } from '../infra/postgres/sqlDatabase.ts';
import type { Projection, ProjectedEvent } from './projection.ts';

/**
 * te_jobs: one row per (transfer, node). Every update that carries a fencing token is guarded by
 * it, so even a log the deciders did not filter could not let a superseded lease move the row.
 */
export const jobsProjection: Projection = {
  name: 'jobs',
  tables: ['te_jobs'],
  async apply(tx: SqlExecutor, event: ProjectedEvent) {
    const at = event.metadata.occurredAt;
    switch (event.type) {
      case 'JobAssigned':
        await tx.query(
          `INSERT INTO te_jobs (transfer_id, node_id, state, role, assigned_at, updated_at)
           VALUES ($1, $2, 'assigned', $3, $4, $4) ON CONFLICT (transfer_id, node_id) DO NOTHING`,
          [event.data.transferId, event.data.nodeId, event.data.role, at],
        );
        return;
      case 'JobLeaseGranted':
        await tx.query(
          `UPDATE te_jobs SET state = 'leased', worker_id = $3, highest_fencing_token = $4, updated_at = $5
            WHERE transfer_id = $1 AND node_id = $2 AND highest_fencing_token < $4`,
          [event.data.transferId, event.data.nodeId, event.data.workerId, event.data.fencingToken, at],
        );
        return;
      case 'ChunksVerified': {
        const column = `bytes_${event.data.source}` as const;
        await tx.query(
          `UPDATE te_jobs SET chunks_verified = chunks_verified + $3, ${column} = ${column} + $4, updated_at = $6
            WHERE transfer_id = $1 AND node_id = $2 AND highest_fencing_token <= $5`,
          [event.data.transferId, event.data.nodeId, event.data.chunkIndexes.length, event.data.bytes, event.data.fencingToken, at],
        );
        return;
      }
      case 'JobCompleted':
        await tx.query(
          `UPDATE te_jobs SET state = 'completed', completed_at = $4, updated_at = $4
            WHERE transfer_id = $1 AND node_id = $2 AND highest_fencing_token <= $3`,
          [event.data.transferId, event.data.nodeId, event.data.fencingToken, at],
        );
        return;
      case 'JobFailed':
      case 'JobAbandoned':
        await tx.query(
          `UPDATE te_jobs SET state = $3, failure_reason = $4, worker_id = NULL, updated_at = $6
            WHERE transfer_id = $1 AND node_id = $2 AND highest_fencing_token <= $5`,
          [
            event.data.transferId,
            event.data.nodeId,
            event.type === 'JobFailed' ? 'failed' : 'abandoned',
            event.data.reason,
            event.data.fencingToken,
            at,
          ],
        );
        return;
      case 'TransferRequested':
      case 'ManifestPublished':
      case 'TransferStarted':
      case 'TransferPaused':
      case 'TransferResumed':
      case 'TransferCancelled':
      case 'TransferCompleted':
      case 'TransferFailed':
        return;
      default:
        assertNever(event);
    }
  },
};
