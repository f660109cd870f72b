import type { OutgoingMessage } from '../bus/messageBus.ts';
import type { RecordedEvent } from '../events/eventLog.ts';
import { headerNames } from '../bus/eventHeaders.ts';

function headersOf(event: RecordedEvent): Record<string, string> {
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

export const messageBytes = (message: OutgoingMessage): number =>
  Buffer.byteLength(message.key) + Buffer.byteLength(message.value) + Object.entries(message.headers).reduce((sum, [name, value]) => sum + name.length + Buffer.byteLength(value), 0);

/**
 * An event too large for one Kafka message (a manifest segment of tens of thousands of pieces)
 * is published as a reference: its identity and position, and the header `x-oversize` with its
 * size. Consumers read the full event from the api (`GET /api/transfers/:id/events`). Sending it
 * whole would be refused by the broker on every retry and wedge the relay.
 */
export function oversizeReference(event: RecordedEvent, bytes: number): OutgoingMessage {
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
      recordedAt: event.recordedAt.toISOString(),
    }),
  };
}

/** The event as torrent.events carries it: whole when it fits in `maxBytes`, else a reference. */
export function boundedEventMessage(event: RecordedEvent, maxBytes: number): OutgoingMessage {
  const message = eventMessage(event);
  const bytes = messageBytes(message);
  return bytes <= maxBytes ? message : oversizeReference(event, bytes);
}

/** The event as published to torrent.events: the recorded event as JSON, keyed by its stream. */
export function eventMessage(event: RecordedEvent): OutgoingMessage {
  return {
    key: event.streamId,
    headers: headersOf(event),
    value: JSON.stringify({
      eventId: event.eventId,
      type: event.type,
      streamId: event.streamId,
      streamRevision: event.streamRevision,
      globalPosition: event.globalPosition,
      schemaVersion: event.schemaVersion,
      data: event.data,
      metadata: event.metadata,
      recordedAt: event.recordedAt.toISOString(),
    }),
  };
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
export function dispatchMessage(event: RecordedEvent, trace: { traceparent?: string; tracestate?: string } = {}): OutgoingMessage | undefined {
  if (event.type !== 'JobAssigned') return undefined;
  const data = event.data as { transferId: string; nodeId: string; role: 'seed' | 'peer' };
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
