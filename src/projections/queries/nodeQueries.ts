import type { TransferTargets } from '../../events/transferEvents.ts';
import type { SqlExecutor } from '../../infra/postgres/sqlDatabase.ts';

export interface NodeView {
  nodeId: string;
  labels: Record<string, string>;
  casVolume: string;
  capacityBytes: number;
  registeredAt: string;
  updatedAt: string;
}

const toNodeView = (row: Record<string, unknown>): NodeView => ({
  nodeId: row.node_id as string,
  labels: row.labels as Record<string, string>,
  casVolume: row.cas_volume as string,
  capacityBytes: Number(row.capacity_bytes),
  registeredAt: (row.registered_at as Date).toISOString(),
  updatedAt: (row.updated_at as Date).toISOString(),
});

export function createNodeQueries(sql: SqlExecutor) {
  return {
    /** One node's labels (the tracker places peers by rack and zone); undefined when not registered. */
    async labelsOf(nodeId: string): Promise<Record<string, string> | undefined> {
      const { rows } = await sql.query<{ labels: Record<string, string> }>('SELECT labels FROM te_nodes WHERE node_id = $1', [nodeId], { name: 'node-labels' });
      return rows[0]?.labels;
    },

    /** Transfers that may still take jobs: a node joining the fleet joins these if it is a target. */
    async activeTransferIds(): Promise<string[]> {
      const { rows } = await sql.query<{ transfer_id: string }>("SELECT transfer_id::text AS transfer_id FROM te_transfers WHERE status IN ('running', 'paused') ORDER BY created_at");
      return rows.map((row) => row.transfer_id);
    },

    async listNodes(): Promise<NodeView[]> {
      const { rows } = await sql.query('SELECT * FROM te_nodes ORDER BY node_id');
      return rows.map(toNodeView);
    },

    /** The node ids a transfer targets: every registered node, the listed ones, or those whose labels contain the selector. */
    async resolveTargets(targets: TransferTargets): Promise<string[]> {
      switch (targets.kind) {
        case 'nodes':
          return [...new Set(targets.nodeIds)].sort();
        case 'all': {
          const { rows } = await sql.query<{ node_id: string }>('SELECT node_id FROM te_nodes ORDER BY node_id');
          return rows.map((row) => row.node_id);
        }
        case 'selector': {
          const { rows } = await sql.query<{ node_id: string }>('SELECT node_id FROM te_nodes WHERE labels @> $1::jsonb ORDER BY node_id', [
            JSON.stringify(targets.labels),
          ]);
          return rows.map((row) => row.node_id);
        }
      }
    },
  };
}

export type NodeQueries = ReturnType<typeof createNodeQueries>;
