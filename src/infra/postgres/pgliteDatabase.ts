import { PGlite } from '@electric-sql/pglite';
import type { SqlDatabase, SqlExecutor, SqlRow } from './sqlDatabase.ts';

/**
 * The embedded store: real PostgreSQL compiled to WebAssembly, in this process. One connection,
 * so transactions are serialized by PGlite itself; `dataDir` undefined keeps it in memory.
 */
export async function createPgliteDatabase(options: { dataDir?: string }): Promise<SqlDatabase> {
  const db = await PGlite.create(options.dataDir === undefined ? {} : { dataDir: options.dataDir });

  const executor = (target: Pick<PGlite, 'query' | 'exec'>): SqlExecutor => ({
    async query<R extends SqlRow>(sql: string, params?: readonly unknown[]) {
      const result = await target.query<R>(sql, params as unknown[] | undefined);
      return { rows: result.rows };
    },
    async exec(sql: string) {
      await target.exec(sql);
    },
  });

  return {
    kind: 'pglite',
    ...executor(db),
    transaction: (fn) => db.transaction((tx) => fn(executor(tx))),
    // The single connection is the session; PGlite queues other callers behind it.
    withSession: (fn) => fn(executor(db)),
    async listen(channel, onNotify) {
      const unlisten = await db.listen(channel, onNotify);
      return unlisten;
    },
    close: () => db.close(),
  };
}
