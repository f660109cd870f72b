/** Header names on every message the relay publishes; consumers dedupe by `event-id`. */
export const headerNames = {
  eventId: 'event-id',
  eventType: 'event-type',
  schemaVersion: 'schema-version',
  requestId: 'x-request-id',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  /** Set on a reference to an event too large for one message: its size in bytes. */
  oversize: 'x-oversize',
} as const;
