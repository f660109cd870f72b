import type { SqlExecutor } from '../sqlDatabase.ts';

/**
 * Tells other processes that the log grew, after the append committed: a NOTIFY inside the
 * append would serialize every commit on PostgreSQL's notification lock. At most one NOTIFY is in
 * flight per process; appends that land meanwhile are folded into the next one, which carries the
 * highest position. A crash between commit and NOTIFY loses only the wake-up: subscribers'
 * safety polls find the events anyway.
 */
export function createAppendNotifier(sql: SqlExecutor, channel: string, onError: (error: unknown) => void) {
  let inFlight = false;
  let pending: number | undefined;

  async function flush(): Promise<void> {
    inFlight = true;
    try {
      while (pending !== undefined) {
        const position = pending;
        pending = undefined;
        await sql.query('SELECT pg_notify($1, $2)', [channel, String(position)]);
      }
    } catch (error) {
      onError(error);
    } finally {
      inFlight = false;
    }
  }

  return {
    notify(position: number): void {
      pending = Math.max(pending ?? 0, position);
      if (!inFlight) void flush();
    },
  };
}
