import { isDomainEventType, upcast, type DomainEvent } from './catalogue.ts';
import type { RecordedEvent } from './eventLog.ts';

/** Recorded events as domain events at the current schema versions. */
export function toDomainEvents(recorded: readonly RecordedEvent[]): DomainEvent[] {
  return recorded.map((event) => {
    if (!isDomainEventType(event.type)) throw new Error(`unknown event type ${event.type} at ${event.globalPosition}`);
    const data = upcast(event.type, event.schemaVersion, event.data as Record<string, unknown>);
    return { type: event.type, data } as DomainEvent;
  });
}
