import type { OutgoingMessage } from '../bus/messageBus.ts';
import type { StoredEvent } from '../events/eventLog.ts';
import { headerNames } from '../bus/eventHeaders.ts';

function headersOf(event: StoredEvent): Record<string, string> {
  const { metadata } = event;
  return {
    [headerNames.eventId]: event.eventId,
    [headerNames.eventType]: event.type,
    [headerNames.schemaVersion]: String(event.schemaVersion),
    [headerNames.requestId]: metadata.requestId,
    ...(metadata.traceparent === undefined ? {} : { [headerNames.traceparent]: metadata.traceparent }),
    ...(metadata.tracestate === undefined ? {} : { [headerNames.tracestate]: metadata.tracestate }),
  };
}

export function messageBytes(message: OutgoingMessage): number {
  let bytes = Buffer.byteLength(message.key) + Buffer.byteLength(message.value);
  for (const name in message.headers) bytes += Buffer.byteLength(name) + Buffer.byteLength(message.headers[name]!);
  return bytes;
}

/**
 * An event too large for one Kafka message (a manifest segment of tens of thousands of pieces)
 * is published as a reference: its identity and position, and the header `x-oversize` with its
 * size. Consumers read the full event from the api (`GET /api/transfers/:id/events`). Sending it
 * whole would be refused by the broker on every retry and wedge the relay.
 */
export function oversizeReference(event: StoredEvent, bytes: number): OutgoingMessage {
  return {
    key: event.streamId,
    headers: { ...headersOf(event), [headerNames.oversize]: String(bytes) },
    value: JSON.stringify({
      eventId: event.eventId,
      type: event.type,
      streamId: event.streamId,
      streamRevision: event.streamRevision,
      globalPosition: event.globalPosition,
      schemaVersion: event.schemaVersion,
      oversize: { bytes },
      metadata: event.metadata,
      recordedAt: event.recordedAtIso,
    }),
  };
}

/** The event as torrent.events carries it: whole when it fits in `maxBytes`, else a reference; with its size (messageBytes). */
export function boundedEventMessage(event: StoredEvent, maxBytes: number): { message: OutgoingMessage; bytes: number } {
  const message = eventMessage(event);
  const bytes = messageBytes(message);
  if (bytes <= maxBytes) return { message, bytes };
  const reference = oversizeReference(event, bytes);
  return { message: reference, bytes: messageBytes(reference) };
}

/**
 * The event as published to torrent.events: the recorded event as JSON, keyed by its stream. The
 * JSON is put together around the stored data text, which is neither parsed nor re-serialized
 * (row parsing, dates and JSON.stringify were 13% of the relay's CPU profile in
 * `npm run bench -- relay`). Keys and their order are those of the recorded event; `data` keeps
 * the store's key order, as before, and now also its spacing.
 */
export function eventMessage(event: StoredEvent): OutgoingMessage {
  const value =
    `{"eventId":${JSON.stringify(event.eventId)},"type":${JSON.stringify(event.type)},"streamId":${JSON.stringify(event.streamId)}` +
    `,"streamRevision":${event.streamRevision},"globalPosition":${event.globalPosition},"schemaVersion":${event.schemaVersion}` +
    `,"data":${event.dataJson},"metadata":${JSON.stringify(event.metadata)},"recordedAt":${JSON.stringify(event.recordedAtIso)}}`;
  return { key: event.streamId, headers: headersOf(event), value };
}

export interface JobAssignedDirective {
  directive: 'JOB_ASSIGNED';
  eventId: string;
  transferId: string;
  nodeId: string;
  role: 'seed' | 'peer';
  requestId: string;
  assignedAt: string;
}

/** A JobAssigned event becomes one directive for its node, keyed by node id; `trace` replaces the event's trace context. */
export function dispatchMessage(event: StoredEvent, trace: { traceparent?: string; tracestate?: string } = {}): OutgoingMessage | undefined {
  if (event.type !== 'JobAssigned') return undefined;
  const data = JSON.parse(event.dataJson) as { transferId: string; nodeId: string; role: 'seed' | 'peer' };
  const directive: JobAssignedDirective = {
    directive: 'JOB_ASSIGNED',
    eventId: event.eventId,
    transferId: data.transferId,
    nodeId: data.nodeId,
    role: data.role,
    requestId: event.metadata.requestId,
    assignedAt: event.metadata.occurredAt,
  };
  return { key: data.nodeId, headers: { ...headersOf(event), ...trace, [headerNames.eventType]: 'JOB_ASSIGNED' }, value: JSON.stringify(directive) };
}
