import type { LogCheckpoint } from '../events/eventLog.ts';
import type { SqlDatabase } from '../infra/postgres/sqlDatabase.ts';

/** The stored checkpoint of a log follower (projection, relay, process manager), created at the log start. */
export async function ensureCheckpoint(db: SqlDatabase, name: string, start: LogCheckpoint): Promise<LogCheckpoint> {
  await db.query('INSERT INTO te_projection_checkpoints (projection, checkpoint) VALUES ($1, $2) ON CONFLICT DO NOTHING', [name, start]);
  const { rows } = await db.query<{ checkpoint: string }>('SELECT checkpoint FROM te_projection_checkpoints WHERE projection = $1', [name]);
  return rows[0]!.checkpoint as LogCheckpoint;
}

/**
 * Moves a follower's checkpoint from `from` to `to` if nobody moved it meanwhile. Returns
 * undefined when it moved, or the checkpoint someone else stored, to resume from.
 */
export async function advanceCheckpoint(
  db: SqlDatabase,
  name: string,
  from: LogCheckpoint,
  to: LogCheckpoint,
  start: LogCheckpoint,
): Promise<LogCheckpoint | undefined> {
  const { rows } = await db.query(
    'UPDATE te_projection_checkpoints SET checkpoint = $3, updated_at = now() WHERE projection = $1 AND checkpoint = $2 RETURNING 1',
    [name, from, to],
  );
  return rows.length > 0 ? undefined : ensureCheckpoint(db, name, start);
}
