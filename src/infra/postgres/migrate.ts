import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { SqlDatabase } from './sqlDatabase.ts';

export const migrationsDir = fileURLToPath(new URL('../../../migrations/', import.meta.url));

// Any fixed 64-bit key; every TorrentEdge process that migrates takes this session lock first.
const migrationLockKey = 7_205_118_020_029;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export async function loadMigrations(dir = migrationsDir): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((file) => /^\d{6}_[a-z0-9_]+\.sql$/.test(file)).sort();
  return Promise.all(
    files.map(async (file) => ({
      version: Number(file.slice(0, 6)),
      name: file.slice(7, -4),
      sql: await readFile(`${dir}${file}`, 'utf8'),
    })),
  );
}

/**
 * Applies the numbered, forward-only migrations not yet applied, each in its own transaction.
 * A session advisory lock serializes processes that start at once: the second waits, then finds
 * nothing left to do. Returns the versions this call applied.
 */
export async function migrate(db: SqlDatabase, deps: { logger: Logger }, dir = migrationsDir): Promise<number[]> {
  const migrations = await loadMigrations(dir);
  return db.withSession(async (session) => {
    await session.query('SELECT pg_advisory_lock($1)', [migrationLockKey]);
    try {
      await session.query(`CREATE TABLE IF NOT EXISTS te_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const { rows } = await session.query<{ version: number }>('SELECT version FROM te_migrations');
      const applied = new Set(rows.map((row) => row.version));
      const newlyApplied: number[] = [];
      for (const migration of migrations) {
        if (applied.has(migration.version)) continue;
        await session.query('BEGIN');
        try {
          await session.exec(migration.sql);
          await session.query('INSERT INTO te_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
          await session.query('COMMIT');
        } catch (error) {
          await session.query('ROLLBACK');
          throw error;
        }
        deps.logger.info({ migration: migration.version, migrationName: migration.name }, 'applied migration');
        newlyApplied.push(migration.version);
      }
      return newlyApplied;
    } finally {
      await session.query('SELECT pg_advisory_unlock($1)', [migrationLockKey]);
    }
  });
}
