/** Header names on every message the relay publishes; consumers dedupe by `event-id`. */
export const headerNames = {
  eventId: 'event-id',
  eventType: 'event-type',
  schemaVersion: 'schema-version',
  requestId: 'x-request-id',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
} as const;
