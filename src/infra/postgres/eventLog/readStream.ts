import type { RecordedEvent } from '../../../events/eventLog.ts';
import type { SqlExecutor } from '../sqlDatabase.ts';
import { recordedEventColumns, toRecordedEvent, type RecordedEventRow } from './recordedEventRow.ts';

export async function readStream(
  sql: SqlExecutor,
  streamId: string,
  fromRevision = 0,
): Promise<{ revision: number; events: RecordedEvent[] }> {
  const { rows } = await sql.query<RecordedEventRow>(
    `SELECT ${recordedEventColumns} FROM te_events WHERE stream_id = $1 AND stream_revision >= $2 ORDER BY stream_revision`,
    [streamId, fromRevision],
    { name: 'te_read_stream' },
  );
  const events = rows.map(toRecordedEvent);
  // With no newer events, the caller's revision stands; a stream that never existed is -1.
  return { revision: events.at(-1)?.streamRevision ?? fromRevision - 1, events };
}

/**
 * Prefix reads as index range scans: with stream_id in C collation, every id starting with a
 * prefix lies in [prefix, prefix || U+10FFFF), which the (stream_id, stream_revision) index
 * serves; starts_with() then keeps exactly the matches.
 */
export async function readStreamsWithPrefix(sql: SqlExecutor, prefixes: readonly string[]): Promise<RecordedEvent[]> {
  const { rows } = await sql.query<RecordedEventRow>(
    `SELECT ${recordedEventColumns} FROM unnest($1::text[]) AS p(prefix)
       JOIN te_events e ON e.stream_id >= p.prefix AND e.stream_id < p.prefix || chr(1114111) AND starts_with(e.stream_id, p.prefix)
      ORDER BY e.transaction_id, e.global_position`,
    [prefixes],
  );
  return rows.map(toRecordedEvent);
}
