import { randomUUID } from 'node:crypto';
import type { NewEvent } from '../../src/events/eventLog.ts';
import type { EventMetadata } from '../../src/events/metadata.ts';

/** An event to append in log-level tests: fresh ids, the current time, schema version 1. */
export function newEvent(type: string, data: Record<string, unknown> = {}, metadata: Partial<EventMetadata> = {}): NewEvent {
  return {
    type,
    data,
    metadata: { eventId: randomUUID(), requestId: randomUUID(), actor: 'test', occurredAt: new Date().toISOString(), schemaVersion: 1, ...metadata },
  };
}

/** A TransferStarted for `transferId`: a valid domain event for projections and the relay. */
export const transferStarted = (transferId: string, metadata: Partial<EventMetadata> = {}): NewEvent =>
  newEvent('TransferStarted', { transferId }, metadata);
