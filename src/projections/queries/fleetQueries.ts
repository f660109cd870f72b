import type { SqlExecutor } from '../../infra/postgres/sqlDatabase.ts';

/** One node's chunks of a transfer: one character per chunk, `-` missing, `o` origin, `p` peer, `c` CAS. */
export interface ChunkMapView {
  nodeId: string;
  map: string;
  verified: number;
  bySource: { origin: number; peer: number; cas: number };
}

export interface FleetTotalsView {
  transfers: number;
  transfersByStatus: Array<{ status: string; count: number }>;
  nodes: number;
  activeJobs: number;
  bytes: { verified: number; origin: number; peer: number; cas: number };
}

const sourceLetter: Record<string, string> = { origin: 'o', peer: 'p', cas: 'c' };

/** Read models the dashboard needs beyond the REST views: chunk maps, recent throughput, fleet totals. */
export function createFleetQueries(sql: SqlExecutor) {
  return {
    // One row per verified chunk: about pieceCount × nodes rows, read once when a dashboard opens a
    // transfer; afterwards it applies the chunk deltas its subscription carries.
    async chunkMaps(transferId: string, pieceCount: number, nodeId?: string): Promise<ChunkMapView[]> {
      const { rows } = await sql.query<{ node_id: string; chunk_index: number; source: string }>(
        `SELECT node_id, chunk_index, source FROM te_chunks
          WHERE transfer_id = $1 AND ($2::text IS NULL OR node_id = $2) ORDER BY node_id, chunk_index`,
        [transferId, nodeId ?? null],
      );
      const maps = new Map<string, { cells: string[]; view: ChunkMapView }>();
      for (const row of rows) {
        let entry = maps.get(row.node_id);
        if (entry === undefined) {
          entry = { cells: Array.from({ length: pieceCount }, () => '-'), view: { nodeId: row.node_id, map: '', verified: 0, bySource: { origin: 0, peer: 0, cas: 0 } } };
          maps.set(row.node_id, entry);
        }
        if (row.chunk_index < pieceCount) entry.cells[row.chunk_index] = sourceLetter[row.source] ?? '?';
        entry.view.verified += 1;
        const source = row.source as keyof ChunkMapView['bySource'];
        if (source in entry.view.bySource) entry.view.bySource[source] += 1;
      }
      return [...maps.values()].map(({ cells, view }) => ({ ...view, map: cells.join('') }));
    },

    /** Chunks each node verified since `since`: throughput is that times the piece length over the window. */
    async chunksVerifiedSince(transferId: string, since: Date): Promise<Map<string, number>> {
      const { rows } = await sql.query<{ node_id: string; n: number }>(
        'SELECT node_id, count(*)::int AS n FROM te_chunks WHERE transfer_id = $1 AND verified_at > $2 GROUP BY node_id',
        [transferId, since.toISOString()],
      );
      return new Map(rows.map((row) => [row.node_id, Number(row.n)]));
    },

    async totals(): Promise<FleetTotalsView> {
      const [byStatus, sums, nodes, jobs] = await Promise.all([
        sql.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM te_transfers GROUP BY status ORDER BY status'),
        sql.query<Record<string, string | null>>(
          'SELECT sum(bytes_verified) AS verified, sum(bytes_origin) AS origin, sum(bytes_peer) AS peer, sum(bytes_cas) AS cas FROM te_transfers',
        ),
        sql.query<{ n: number }>('SELECT count(*)::int AS n FROM te_nodes'),
        sql.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM te_jobs j JOIN te_transfers t ON t.transfer_id = j.transfer_id
            WHERE t.status IN ('running', 'paused') AND j.state NOT IN ('completed', 'failed')`,
        ),
      ]);
      const sum = sums.rows[0] ?? {};
      const transfersByStatus = byStatus.rows.map((row) => ({ status: row.status, count: Number(row.n) }));
      return {
        transfers: transfersByStatus.reduce((total, row) => total + row.count, 0),
        transfersByStatus,
        nodes: Number(nodes.rows[0]?.n ?? 0),
        activeJobs: Number(jobs.rows[0]?.n ?? 0),
        bytes: { verified: Number(sum.verified ?? 0), origin: Number(sum.origin ?? 0), peer: Number(sum.peer ?? 0), cas: Number(sum.cas ?? 0) },
      };
    },
  };
}

export type FleetQueries = ReturnType<typeof createFleetQueries>;
