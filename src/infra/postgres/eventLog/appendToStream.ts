import { idempotencyMismatch, RevisionConflictError } from '../../../errors.ts';
import type { AppendResult, ExpectedRevision, IdempotencyClaim, NewEvent } from '../../../events/eventLog.ts';
import type { SqlExecutor } from '../sqlDatabase.ts';

export interface AppendRequest {
  streamId: string;
  events: NewEvent[];
  expectedRevision: ExpectedRevision;
  idempotency?: IdempotencyClaim;
}

export interface AppendRow {
  [column: string]: unknown;
  outcome: 'appended' | 'duplicate' | 'idempotency_mismatch' | 'revision_conflict';
  stream_revision: number | null;
  last_position: number | null;
  stored_result: unknown;
}

function sqlExpectedRevision(expected: ExpectedRevision): number | null {
  if (expected === 'any') return null;
  if (expected === 'no_stream') return -1;
  return expected;
}

/** One jsonb array, not five parallel arrays: see te_append_to_stream (migration 1). */
const eventsJson = (events: readonly NewEvent[]) =>
  events.map((event) => ({ id: event.metadata.eventId, type: event.type, schemaVersion: event.metadata.schemaVersion, data: event.data, metadata: event.metadata }));

/** The append as te_append_batch takes it. */
export function appendJson(request: AppendRequest) {
  if (request.events.length === 0) throw new Error('an append needs at least one event');
  return {
    streamId: request.streamId,
    expectedRevision: sqlExpectedRevision(request.expectedRevision),
    events: eventsJson(request.events),
    requestId: request.idempotency?.requestId ?? null,
    fingerprint: request.idempotency?.fingerprint ?? null,
    result: request.idempotency?.result ?? null,
  };
}

/** The database's answer as ours: a result, or the conflict or mismatch as an error. */
export function toAppendResult(row: AppendRow | undefined, request: AppendRequest): AppendResult {
  if (row === undefined) throw new Error('the append returned no row');
  switch (row.outcome) {
    case 'appended':
      return { outcome: 'appended', streamRevision: Number(row.stream_revision), lastPosition: Number(row.last_position) };
    case 'duplicate':
      return { outcome: 'duplicate', result: row.stored_result };
    case 'idempotency_mismatch':
      throw idempotencyMismatch(request.idempotency?.requestId ?? '');
    case 'revision_conflict':
      throw new RevisionConflictError(request.streamId, String(request.expectedRevision), Number(row.stream_revision));
  }
}

export async function appendToStream(sql: SqlExecutor, request: AppendRequest): Promise<AppendResult> {
  const append = appendJson(request);
  const { rows } = await sql.query<AppendRow>(
    'SELECT * FROM te_append_to_stream($1, $2, $3::jsonb, $4, $5, $6::jsonb)',
    [append.streamId, append.expectedRevision, JSON.stringify(append.events), append.requestId, append.fingerprint, JSON.stringify(append.result)],
    // Prepared: the hottest statement; saves about 90 µs of server CPU per append (sqlDatabase.ts).
    { name: 'te_append_to_stream' },
  );
  return toAppendResult(rows[0], request);
}

/** Several appends in one statement and one commit; each gets its own result or error. */
export async function appendBatch(sql: SqlExecutor, requests: readonly AppendRequest[]): Promise<Array<PromiseSettledResult<AppendResult>>> {
  const { rows } = await sql.query<AppendRow & { append_index: number }>('SELECT * FROM te_append_batch($1::jsonb)', [JSON.stringify(requests.map(appendJson))], {
    name: 'te_append_batch',
  });
  const byIndex = new Map(rows.map((row) => [row.append_index, row]));
  return requests.map((request, index) => {
    try {
      return { status: 'fulfilled', value: toAppendResult(byIndex.get(index), request) };
    } catch (error) {
      return { status: 'rejected', reason: error };
    }
  });
}
