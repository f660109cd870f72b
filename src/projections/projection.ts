import type { DomainEvent } from '../events/catalogue.ts';
import type { EventMetadata } from '../events/metadata.ts';
import type { SqlExecutor } from '../infra/postgres/sqlDatabase.ts';

export type ProjectedEvent = DomainEvent & { metadata: EventMetadata; globalPosition: number };

/** Events of a transfer or of one of its jobs (node events are not). */
export type TransferScopedEvent = Extract<ProjectedEvent, { data: { transferId: string } }>;

export const isTransferScoped = (event: ProjectedEvent): event is TransferScopedEvent => 'transferId' in event.data;

/**
 * A read model built from the log. `applyBatch` gets events in log order and runs inside the
 * transaction that also moves the projection's checkpoint.
 */
export interface Projection {
  readonly name: string;
  /** The tables it owns; a replay empties them. */
  readonly tables: readonly string[];
  applyBatch(tx: SqlExecutor, events: readonly ProjectedEvent[]): Promise<void>;
}
