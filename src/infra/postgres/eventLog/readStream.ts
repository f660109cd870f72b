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

const likeEscape = (value: string): string => value.replace(/[\\%_]/g, (char) => `\\${char}`);

export async function readStreamsWithPrefix(sql: SqlExecutor, prefixes: readonly string[]): Promise<RecordedEvent[]> {
  const { rows } = await sql.query<RecordedEventRow>(
    `SELECT ${recordedEventColumns} FROM te_events WHERE stream_id LIKE ANY($1::text[])
      ORDER BY transaction_id, global_position`,
    [prefixes.map((prefix) => `${likeEscape(prefix)}%`)],
  );
  return rows.map(toRecordedEvent);
}
