import { assertNever } from '../commands/decider.ts';
import type { SqlExecutor } from '../infra/postgres/sqlDatabase.ts';
import type { Projection, ProjectedEvent } from './projection.ts';
import { keyOf, loadRows, storeRows, type RowTable } from './rowBatch.ts';

export interface JobRow {
  transfer_id: string;
  node_id: string;
  state: string;
  role: string;
  worker_id: string | null;
  highest_fencing_token: number;
  chunks_verified: number;
  bytes_origin: number;
  bytes_peer: number;
  bytes_cas: number;
  failure_reason: string | null;
  assigned_at: string | Date;
  updated_at: string | Date;
  completed_at: string | Date | null;
  trace_parent: string | null;
}

const table: RowTable<JobRow> = {
  table: 'te_jobs',
  key: ['transfer_id', 'node_id'],
  columns: [
    'transfer_id', 'node_id', 'state', 'role', 'worker_id', 'highest_fencing_token', 'chunks_verified', 'bytes_origin',
    'bytes_peer', 'bytes_cas', 'failure_reason', 'assigned_at', 'updated_at', 'completed_at', 'trace_parent',
  ],
  // The row never moves back to an older lease, whatever the batch holds.
  guard: 'te_jobs.highest_fencing_token <= EXCLUDED.highest_fencing_token',
};

/**
 * One event applied to one job's row. Every effect is fenced: a grant must raise the token, and
 * chunks, completion, failure and abandonment count only under the highest token seen. The
 * deciders already refuse stale tokens; this keeps the read model right even for a log they
 * did not filter.
 */
export function foldJobRow(row: JobRow | undefined, event: JobScopedEvent): JobRow | undefined {
  const at = event.metadata.occurredAt;
  if (event.type === 'JobAssigned') {
    if (row !== undefined) return row;
    return {
      transfer_id: event.data.transferId, node_id: event.data.nodeId, state: 'assigned', role: event.data.role,
      worker_id: null, highest_fencing_token: 0, chunks_verified: 0, bytes_origin: 0, bytes_peer: 0, bytes_cas: 0,
      failure_reason: null, assigned_at: at, updated_at: at, completed_at: null, trace_parent: event.metadata.traceparent ?? null,
    };
  }
  if (row === undefined) return undefined;
  switch (event.type) {
    case 'JobLeaseGranted':
      if (event.data.fencingToken <= row.highest_fencing_token) return undefined;
      return { ...row, state: 'leased', worker_id: event.data.workerId, highest_fencing_token: event.data.fencingToken, updated_at: at };
    case 'ChunksVerified': {
      if (event.data.fencingToken < row.highest_fencing_token) return undefined;
      const column = `bytes_${event.data.source}` as const;
      return { ...row, chunks_verified: row.chunks_verified + event.data.chunkIndexes.length, [column]: row[column] + event.data.bytes, updated_at: at };
    }
    case 'JobCompleted':
      if (event.data.fencingToken < row.highest_fencing_token) return undefined;
      return { ...row, state: 'completed', completed_at: at, updated_at: at };
    case 'JobFailed':
    case 'JobAbandoned':
      if (event.data.fencingToken < row.highest_fencing_token) return undefined;
      return { ...row, state: event.type === 'JobFailed' ? 'failed' : 'abandoned', failure_reason: event.data.reason, worker_id: null, updated_at: at };
    default:
      return assertNever(event);
  }
}

type JobScopedEvent = Extract<ProjectedEvent, { data: { transferId: string; nodeId: string } }>;

const isJobEvent = (event: ProjectedEvent): event is JobScopedEvent => 'transferId' in event.data && 'nodeId' in event.data;

/** te_jobs: one row per (transfer, node). */
export const jobsProjection: Projection = {
  name: 'jobs',
  tables: ['te_jobs'],
  async applyBatch(tx: SqlExecutor, events: readonly ProjectedEvent[]) {
    const jobEvents = events.filter(isJobEvent);
    const keyRow = (event: (typeof jobEvents)[number]) => ({ transfer_id: event.data.transferId, node_id: event.data.nodeId }) as JobRow;
    const rows = await loadRows(tx, table, jobEvents.map(keyRow));
    const touched = new Set<string>();
    for (const event of jobEvents) {
      const key = keyOf(table, keyRow(event));
      const next = foldJobRow(rows.get(key), event);
      if (next === undefined) continue;
      rows.set(key, next);
      touched.add(key);
    }
    await storeRows(tx, table, [...touched].map((key) => rows.get(key)!));
  },
};
