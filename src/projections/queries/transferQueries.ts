import type { SqlExecutor } from '../../infra/postgres/sqlDatabase.ts';

export interface TransferView {
  id: string;
  name: string | null;
  status: string;
  source: Record<string, unknown>;
  totalBytes: number | null;
  pieceLength: number | null;
  pieceCount: number | null;
  progress: number;
  nodes: { total: number; completed: number; failed: number };
  bytes: { verified: number; origin: number; peer: number; cas: number };
  failureReason: string | null;
  requestId: string;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface JobView {
  nodeId: string;
  state: string;
  role: string;
  workerId: string | null;
  highestFencingToken: number;
  chunksVerified: number;
  progress: number;
  bytes: { origin: number; peer: number; cas: number };
  failureReason: string | null;
  assignedAt: string;
  updatedAt: string;
  completedAt: string | null;
}

const transferColumns = `transfer_id::text AS transfer_id, name, status, source, total_bytes, piece_length, piece_count, progress,
  nodes_total, nodes_completed, nodes_failed, bytes_verified, bytes_origin, bytes_peer, bytes_cas, failure_reason,
  request_id, created_by, created_at, updated_at`;

type Row = Record<string, unknown>;
const iso = (value: unknown): string => (value as Date).toISOString();
const num = (value: unknown): number => Number(value ?? 0);

function toTransferView(row: Row): TransferView {
  return {
    id: row.transfer_id as string,
    name: row.name as string | null,
    status: row.status as string,
    source: row.source as Record<string, unknown>,
    totalBytes: row.total_bytes === null ? null : num(row.total_bytes),
    pieceLength: row.piece_length as number | null,
    pieceCount: row.piece_count as number | null,
    progress: num(row.progress),
    nodes: { total: num(row.nodes_total), completed: num(row.nodes_completed), failed: num(row.nodes_failed) },
    bytes: { verified: num(row.bytes_verified), origin: num(row.bytes_origin), peer: num(row.bytes_peer), cas: num(row.bytes_cas) },
    failureReason: row.failure_reason as string | null,
    requestId: row.request_id as string,
    createdBy: row.created_by as string,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

function toJobView(row: Row, pieceCount: number | null): JobView {
  const chunksVerified = num(row.chunks_verified);
  return {
    nodeId: row.node_id as string,
    state: row.state as string,
    role: row.role as string,
    workerId: row.worker_id as string | null,
    highestFencingToken: num(row.highest_fencing_token),
    chunksVerified,
    progress: pieceCount === null || pieceCount === 0 ? 0 : chunksVerified / pieceCount,
    bytes: { origin: num(row.bytes_origin), peer: num(row.bytes_peer), cas: num(row.bytes_cas) },
    failureReason: row.failure_reason as string | null,
    assignedAt: iso(row.assigned_at),
    updatedAt: iso(row.updated_at),
    completedAt: row.completed_at === null ? null : iso(row.completed_at),
  };
}

/** Keyset cursor over (created_at, transfer_id), newest first; opaque to clients. */
export function encodeCursor(view: Pick<TransferView, 'createdAt' | 'id'>): string {
  return Buffer.from(`${view.createdAt}|${view.id}`).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: string; id: string } | undefined {
  const [createdAt, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (createdAt === undefined || id === undefined || Number.isNaN(Date.parse(createdAt))) return undefined;
  if (!/^[0-9a-f-]{36}$/.test(id)) return undefined;
  return { createdAt, id };
}

export function createTransferQueries(sql: SqlExecutor) {
  return {
    async listTransfers(options: { limit: number; after?: { createdAt: string; id: string }; status?: string }) {
      const { rows } = await sql.query(
        `SELECT ${transferColumns} FROM te_transfers
          WHERE ($1::timestamptz IS NULL OR (created_at, transfer_id) < ($1::timestamptz, $2::uuid))
            AND ($3::text IS NULL OR status = $3)
          ORDER BY created_at DESC, transfer_id DESC
          LIMIT $4`,
        [options.after?.createdAt ?? null, options.after?.id ?? null, options.status ?? null, options.limit + 1],
      );
      const items = rows.slice(0, options.limit).map(toTransferView);
      const last = items[items.length - 1];
      return { items, nextCursor: rows.length > options.limit && last !== undefined ? encodeCursor(last) : null };
    },

    async getTransfer(id: string): Promise<(TransferView & { jobs: JobView[] }) | undefined> {
      const { rows } = await sql.query(`SELECT ${transferColumns} FROM te_transfers WHERE transfer_id = $1`, [id]);
      const row = rows[0];
      if (row === undefined) return undefined;
      const transfer = toTransferView(row);
      const jobs = await sql.query('SELECT * FROM te_jobs WHERE transfer_id = $1 ORDER BY node_id', [id]);
      return { ...transfer, jobs: jobs.rows.map((job) => toJobView(job, transfer.pieceCount)) };
    },

    /** A node's jobs in transfers that have not ended: what a restarted worker picks up again. */
    async listActiveJobsOfNode(nodeId: string): Promise<Array<JobView & { transferId: string; transferStatus: string; traceparent: string | null }>> {
      const { rows } = await sql.query(
        `SELECT j.*, j.transfer_id::text AS transfer_id, t.status AS transfer_status, t.piece_count
           FROM te_jobs j JOIN te_transfers t ON t.transfer_id = j.transfer_id
          WHERE j.node_id = $1 AND t.status IN ('requested', 'running', 'paused')
          ORDER BY j.assigned_at`,
        [nodeId],
      );
      return rows.map((row) => ({
        ...toJobView(row, row.piece_count as number | null),
        transferId: row.transfer_id as string,
        transferStatus: row.transfer_status as string,
        traceparent: (row.trace_parent as string | null) ?? null,
      }));
    },
  };
}

export type TransferQueries = ReturnType<typeof createTransferQueries>;
