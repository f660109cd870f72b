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
