import type { SqlExecutor } from '../infra/postgres/sqlDatabase.ts';
import type { Projection, ProjectedEvent } from './projection.ts';
import { keyOf, loadRows, storeRows, type RowTable } from './rowBatch.ts';

export interface NodeRow {
  node_id: string;
  labels: Record<string, string>;
  cas_volume: string;
  capacity_bytes: number;
  registered_at: string | Date;
  updated_at: string | Date;
}

const table: RowTable<NodeRow> = {
  table: 'te_nodes',
  key: ['node_id'],
  columns: ['node_id', 'labels', 'cas_volume', 'capacity_bytes', 'registered_at', 'updated_at'],
};

type NodeScopedEvent = Extract<ProjectedEvent, { type: 'NodeRegistered' | 'NodeDescriptionChanged' }>;
const isNodeEvent = (event: ProjectedEvent): event is NodeScopedEvent => event.type === 'NodeRegistered' || event.type === 'NodeDescriptionChanged';

/** te_nodes: the fleet as registered. */
export const nodesProjection: Projection = {
  name: 'nodes',
  tables: ['te_nodes'],
  async applyBatch(tx: SqlExecutor, all: readonly ProjectedEvent[]) {
    const events = all.filter(isNodeEvent);
    const keyRow = (event: NodeScopedEvent) => ({ node_id: event.data.nodeId }) as NodeRow;
    const rows = await loadRows(tx, table, events.map(keyRow));
    for (const event of events) {
      const key = keyOf(table, keyRow(event));
      const at = event.metadata.occurredAt;
      const { nodeId, labels, casVolume, capacityBytes } = event.data;
      rows.set(key, {
        node_id: nodeId,
        labels,
        cas_volume: casVolume,
        capacity_bytes: capacityBytes,
        registered_at: rows.get(key)?.registered_at ?? at,
        updated_at: at,
      });
    }
    await storeRows(tx, table, rows.values());
  },
};
