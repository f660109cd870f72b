import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { migrate } from '../infra/postgres/migrate.ts';
import { createPgDatabase } from '../infra/postgres/pgDatabase.ts';
import { createPgliteDatabase } from '../infra/postgres/pgliteDatabase.ts';
import type { SqlDatabase } from '../infra/postgres/sqlDatabase.ts';

/** PostgreSQL when DATABASE_URL is set, otherwise the embedded PGlite store under the data directory. */
export async function openDatabase(config: Config, deps: { logger: Logger }, options: { migrate: boolean }): Promise<SqlDatabase> {
  let db: SqlDatabase;
  if (config.databaseUrl !== undefined) {
    db = createPgDatabase(deps, { connectionString: config.databaseUrl });
  } else {
    const dataDir = join(config.dataDir, 'pglite');
    await mkdir(dataDir, { recursive: true });
    db = await createPgliteDatabase({ dataDir });
  }
  if (options.migrate) {
    try {
      await migrate(db, deps);
    } catch (error) {
      await db.close();
      throw error;
    }
  }
  return db;
}
