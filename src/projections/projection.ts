import type { DomainEvent } from '../events/catalogue.ts';
import type { EventMetadata } from '../events/metadata.ts';
import type { SqlExecutor } from '../infra/postgres/sqlDatabase.ts';

export type ProjectedEvent = DomainEvent & { metadata: EventMetadata; globalPosition: number };

/** A read model built from the log. `apply` runs inside the batch transaction that also moves the checkpoint. */
export interface Projection {
  readonly name: string;
  /** The tables it owns; a replay empties them. */
  readonly tables: readonly string[];
  apply(tx: SqlExecutor, event: ProjectedEvent): Promise<void>;
}
