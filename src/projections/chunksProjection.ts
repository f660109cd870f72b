import type { SqlExecutor } from '../infra/postgres/sqlDatabase.ts';
import type { Projection, ProjectedEvent } from './projection.ts';

/** te_chunks: which node holds which verified chunk, from where, under which lease. */
export const chunksProjection: Projection = {
  name: 'chunks',
  tables: ['te_chunks'],
  async apply(tx: SqlExecutor, event: ProjectedEvent) {
    if (event.type !== 'ChunksVerified') return;
    const { transferId, nodeId, chunkIndexes, source, fencingToken } = event.data;
    // One statement per batch of chunks; a row already written under a newer lease stays.
    await tx.query(
      `INSERT INTO te_chunks (transfer_id, node_id, chunk_index, source, fencing_token, verified_at)
       SELECT $1, $2, chunk_index, $4, $5, $6 FROM unnest($3::integer[]) AS chunk_index
       ON CONFLICT (transfer_id, node_id, chunk_index) DO UPDATE
         SET source = EXCLUDED.source, fencing_token = EXCLUDED.fencing_token, verified_at = EXCLUDED.verified_at
         WHERE te_chunks.fencing_token < EXCLUDED.fencing_token`,
      [transferId, nodeId, chunkIndexes, source, fencingToken, event.metadata.occurredAt],
    );
  },
};
