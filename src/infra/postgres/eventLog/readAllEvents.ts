import type { LogCheckpoint, RecordedEvent, StoredEvent } from '../../../events/eventLog.ts';
import type { SqlExecutor, SqlRow } from '../sqlDatabase.ts';
import { decodeCheckpoint, recordedEventColumns, storedEventColumns, toRecordedEvent, toStoredEvent } from './recordedEventRow.ts';

/**
 * Reads committed events in log order: (transaction_id, global_position).
 *
 * Positions come from an identity column, taken at insert time, so a transaction that inserted
 * position 5 may commit after one that inserted 6. A reader that trusted positions alone would
 * see 6, advance its checkpoint past 5 and never see it. So only events whose transaction is
 * older than every transaction still in progress (the snapshot's xmin) are returned: all of
 * those are settled, and every later transaction sorts after them.
 *
 * We preferred this over serializing appends with a global advisory lock, which keeps position
 * order equal to commit order but allows one commit at a time and so forfeits group commit;
 * `npm run bench -- control-plane` runs with this gating (docs/benchmarks.md).
 */
export function readAllEvents(sql: SqlExecutor, after: LogCheckpoint, limit: number): Promise<RecordedEvent[]> {
  return readAllRows(sql, after, limit, recordedEventQuery, toRecordedEvent);
}

/** As readAllEvents, each event as stored (data as JSON text): what the relay forwards. */
export function readAllStoredEvents(sql: SqlExecutor, after: LogCheckpoint, limit: number): Promise<StoredEvent[]> {
  return readAllRows(sql, after, limit, storedEventQuery, toStoredEvent);
}

const query = (columns: string, name: string) => ({
  name,
  text: `SELECT ${columns} FROM te_events
      WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
        AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
      -- Qualified: a bare transaction_id here would be the text alias of the select list, which
      -- sorts '100000' before '99999', skips events across such a boundary, and cannot use the
      -- index (every batch sorted the whole backlog: 5,600 → 15,600 events/s relayed once fixed).
      ORDER BY te_events.transaction_id, te_events.global_position
      LIMIT $3`,
});
const recordedEventQuery = query(recordedEventColumns, 'te_read_all_events');
const storedEventQuery = query(storedEventColumns, 'te_read_all_stored_events');

async function readAllRows<R extends SqlRow, E>(sql: SqlExecutor, after: LogCheckpoint, limit: number, statement: { name: string; text: string }, toEvent: (row: R) => E): Promise<E[]> {
  const { transactionId, globalPosition } = decodeCheckpoint(after);
  const { rows } = await sql.query<R>(statement.text, [transactionId, globalPosition, limit], { name: statement.name });
  return rows.map(toEvent);
}
