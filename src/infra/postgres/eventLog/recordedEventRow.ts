import type { LogCheckpoint, RecordedEvent } from '../../../events/eventLog.ts';
import type { EventMetadata } from '../../../events/metadata.ts';

export const recordedEventColumns =
  'global_position, transaction_id::text AS transaction_id, stream_id, stream_revision, event_id::text AS event_id, event_type, schema_version, data, metadata, recorded_at';

export interface RecordedEventRow {
  [column: string]: unknown;
  global_position: number;
  transaction_id: string;
  stream_id: string;
  stream_revision: number;
  event_id: string;
  event_type: string;
  schema_version: number;
  data: unknown;
  metadata: EventMetadata;
  recorded_at: Date;
}

/** The PostgreSQL log's checkpoint: the appending transaction id and the position, the log-order key. */
export function encodeCheckpoint(transactionId: string, globalPosition: number): LogCheckpoint {
  return `${transactionId}:${globalPosition}` as LogCheckpoint;
}

export function decodeCheckpoint(checkpoint: LogCheckpoint): { transactionId: string; globalPosition: number } {
  const match = /^(\d+):(\d+)$/.exec(checkpoint);
  if (match === null) throw new Error(`not a PostgreSQL log checkpoint: ${checkpoint}`);
  return { transactionId: match[1]!, globalPosition: Number(match[2]) };
}

export function toRecordedEvent(row: RecordedEventRow): RecordedEvent {
  return {
    streamId: row.stream_id,
    streamRevision: row.stream_revision,
    globalPosition: row.global_position,
    checkpoint: encodeCheckpoint(row.transaction_id, row.global_position),
    eventId: row.event_id,
    type: row.event_type,
    schemaVersion: row.schema_version,
    data: row.data,
    metadata: row.metadata,
    recordedAt: row.recorded_at,
  };
}
