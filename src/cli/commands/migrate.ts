import type { Config } from '../../config.ts';
import { migrate } from '../../infra/postgres/migrate.ts';
import { createLogger } from '../../observability/logger.ts';
import { openDatabase } from '../../runtime/openDatabase.ts';

export async function runMigrate(config: Config): Promise<void> {
  const logger = createLogger({ level: config.logLevel });
  const db = await openDatabase(config, { logger }, { migrate: false });
  try {
    const applied = await migrate(db, { logger });
    console.log(applied.length === 0 ? 'schema is up to date' : `applied migrations ${applied.join(', ')}`);
  } finally {
    await db.close();
  }
}
