import type { RecordedEvent } from '../../../events/eventLog.ts';
import type { SqlExecutor } from '../sqlDatabase.ts';
import { recordedEventColumns, toRecordedEvent, type RecordedEventRow } from './recordedEventRow.ts';

export async function readStream(sql: SqlExecutor, streamId: string): Promise<{ revision: number; events: RecordedEvent[] }> {
  const { rows } = await sql.query<RecordedEventRow>(
    `SELECT ${recordedEventColumns} FROM te_events WHERE stream_id = $1 ORDER BY stream_revision`,
    [streamId],
  );
  const events = rows.map(toRecordedEvent);
  return { revision: events.length - 1, events };
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
