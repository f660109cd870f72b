import type { EventLog, LogCheckpoint } from '../events/eventLog.ts';
import type { SqlDatabase } from '../infra/postgres/sqlDatabase.ts';
import { ensureCheckpoint } from './checkpoints.ts';
import { applyBatch } from './projector.ts';
import type { Projection } from './projection.ts';

/**
 * Rebuilds a read model from the log: empties its tables and resets its checkpoint in one
 * transaction, then applies the log from the start to the head in batches, each committed with
 * its checkpoint. A projector running elsewhere sees the moved checkpoint on its next batch and
 * continues from wherever this rebuild has got to, so the two never apply an event twice.
 * Readers see the read model fill up again while it runs.
 */
export async function replayProjection(
  deps: { db: SqlDatabase; eventLog: EventLog },
  projection: Projection,
  options: { batchSize?: number } = {},
): Promise<{ events: number }> {
  await ensureCheckpoint(deps.db, projection.name, deps.eventLog.start);
  await deps.db.transaction(async (tx) => {
    await tx.query('SELECT 1 FROM te_projection_checkpoints WHERE projection = $1 FOR UPDATE', [projection.name]);
    await tx.query(`TRUNCATE ${projection.tables.join(', ')}`);
    await tx.query('UPDATE te_projection_checkpoints SET checkpoint = $2, updated_at = now() WHERE projection = $1', [
      projection.name,
      deps.eventLog.start,
    ]);
  });
  let after: LogCheckpoint = deps.eventLog.start;
  let count = 0;
  for (;;) {
    const events = await deps.eventLog.readAll({ after, limit: options.batchSize ?? 1000 });
    if (events.length === 0) return { events: count };
    const outcome = await applyBatch(deps.db, projection, after, events);
    if (!outcome.applied) {
      after = outcome.storedCheckpoint; // a live projector advanced it: follow it to the head
      continue;
    }
    after = events[events.length - 1]!.checkpoint;
    count += events.length;
  }
}
