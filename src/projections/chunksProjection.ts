import type { SqlExecutor } from '../infra/postgres/sqlDatabase.ts';
import type { Projection, ProjectedEvent } from './projection.ts';

/** te_chunks: which node holds which verified chunk, from where, under which lease. */
export const chunksProjection: Projection = {
  name: 'chunks',
  tables: ['te_chunks'],
  async applyBatch(tx: SqlExecutor, events: readonly ProjectedEvent[]) {
    // One row per (transfer, node, chunk); within a batch the newest lease wins, as across batches.
    const chunks = new Map<string, { transferId: string; nodeId: string; index: number; source: string; token: number; at: string }>();
    for (const event of events) {
      if (event.type !== 'ChunksVerified') continue;
      const { transferId, nodeId, chunkIndexes, source, fencingToken } = event.data;
      for (const index of chunkIndexes) {
        const key = `${transferId}/${nodeId}/${index}`;
        const seen = chunks.get(key);
        if (seen === undefined || seen.token < fencingToken) {
          chunks.set(key, { transferId, nodeId, index, source, token: fencingToken, at: event.metadata.occurredAt });
        }
      }
    }
    if (chunks.size === 0) return;
    const rows = [...chunks.values()];
    await tx.query(
      `INSERT INTO te_chunks (transfer_id, node_id, chunk_index, source, fencing_token, verified_at)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::integer[], $4::text[], $5::bigint[], $6::timestamptz[])
       ON CONFLICT (transfer_id, node_id, chunk_index) DO UPDATE
         SET source = EXCLUDED.source, fencing_token = EXCLUDED.fencing_token, verified_at = EXCLUDED.verified_at
         WHERE te_chunks.fencing_token < EXCLUDED.fencing_token`,
      [
        rows.map((row) => row.transferId),
        rows.map((row) => row.nodeId),
        rows.map((row) => row.index),
        rows.map((row) => row.source),
        rows.map((row) => row.token),
        rows.map((row) => row.at),
      ],
    );
  },
};
