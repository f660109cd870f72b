/** Carried by every event: who caused it, for which request, in which trace, and when. */
export interface EventMetadata {
  eventId: string;
  requestId: string;
  /** W3C trace context of the command that appended the event. */
  traceparent?: string;
  tracestate?: string;
  /** The token subject that issued the command. */
  actor: string;
  /** ISO-8601 instant the command was decided, from the command's clock, not the database's. */
  occurredAt: string;
  schemaVersion: number;
}

/** What a caller knows before an event exists; the event id and schema version are added on append. */
export type CommandContext = Omit<EventMetadata, 'eventId' | 'schemaVersion'>;
