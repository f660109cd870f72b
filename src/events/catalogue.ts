import type { JobEvent } from './jobEvents.ts';
import type { NodeEvent } from './nodeEvents.ts';
import type { TransferEvent } from './transferEvents.ts';

export type DomainEvent = TransferEvent | JobEvent | NodeEvent;
export type DomainEventType = DomainEvent['type'];

type Upcaster = (data: Record<string, unknown>) => Record<string, unknown>;

interface CatalogueEntry {
  /** The version written today. */
  schemaVersion: number;
  /** upcasters[v] turns version v data into version v + 1. Old events are upcast on read, never rewritten. */
  upcasters: Record<number, Upcaster>;
}

export const eventCatalogue: Record<DomainEventType, CatalogueEntry> = {
  TransferRequested: { schemaVersion: 1, upcasters: {} },
  ManifestPublished: {
    schemaVersion: 2,
    upcasters: {
      // v1 described one file in one segment.
      1: (data) => ({ ...data, segmentPieces: data.pieceCount, files: [{ path: 'artifact', length: data.totalBytes }] }),
    },
  },
  ManifestSegmentPublished: { schemaVersion: 1, upcasters: {} },
  ManifestCompleted: { schemaVersion: 1, upcasters: {} },
  TransferStarted: { schemaVersion: 1, upcasters: {} },
  TransferPaused: { schemaVersion: 1, upcasters: {} },
  TransferResumed: { schemaVersion: 1, upcasters: {} },
  TransferCancelled: { schemaVersion: 1, upcasters: {} },
  TransferCompleted: { schemaVersion: 1, upcasters: {} },
  TransferFailed: { schemaVersion: 1, upcasters: {} },
  JobAssigned: { schemaVersion: 1, upcasters: {} },
  JobLeaseGranted: { schemaVersion: 1, upcasters: {} },
  ChunksVerified: { schemaVersion: 1, upcasters: {} },
  JobCompleted: { schemaVersion: 1, upcasters: {} },
  JobFailed: { schemaVersion: 1, upcasters: {} },
  JobAbandoned: { schemaVersion: 1, upcasters: {} },
  NodeRegistered: { schemaVersion: 1, upcasters: {} },
  NodeDescriptionChanged: { schemaVersion: 1, upcasters: {} },
};

export function isDomainEventType(type: string): type is DomainEventType {
  return Object.hasOwn(eventCatalogue, type);
}

export function schemaVersionOf(type: DomainEventType): number {
  return eventCatalogue[type].schemaVersion;
}

/** Brings stored event data up to the current schema version. */
export function upcast(type: DomainEventType, version: number, data: Record<string, unknown>): Record<string, unknown> {
  const entry = eventCatalogue[type];
  let current = data;
  for (let v = version; v < entry.schemaVersion; v++) {
    const step = entry.upcasters[v];
    if (step === undefined) throw new Error(`no upcaster for ${type} v${v} → v${v + 1}`);
    current = step(current);
  }
  return current;
}
