import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate } from '../../src/infra/postgres/migrate.ts';
import { createPgDatabase } from '../../src/infra/postgres/pgDatabase.ts';
import { createPgliteDatabase } from '../../src/infra/postgres/pgliteDatabase.ts';
import type { SqlDatabase } from '../../src/infra/postgres/sqlDatabase.ts';
import { silentLogger } from '../../src/observability/logger.ts';

/** The server the integration tests use; each test file gets a database of its own on it. */
export const testServerUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  db: SqlDatabase;
  drop(): Promise<void>;
}

function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testServerUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh, migrated database on the real PostgreSQL server, dropped by `drop()`. */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `te_test_${randomBytes(6).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = withDatabase(testServerUrl, name);
  const db = createPgDatabase({ logger: silentLogger() }, { connectionString: url, maxConnections: 30 });
  if (options.migrate ?? true) await migrate(db, { logger: silentLogger() });
  return {
    url,
    db,
    async drop() {
      await db.close();
      await admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/** An in-memory, migrated PGlite: the embedded store. */
export async function createTestPglite(): Promise<TestDatabase> {
  const db = await createPgliteDatabase({});
  await migrate(db, { logger: silentLogger() });
  return { url: 'pglite://memory', db, drop: () => db.close() };
}

export type TestStore = 'postgres' | 'pglite';

export const createTestStore = (store: TestStore): Promise<TestDatabase> =>
  store === 'postgres' ? createTestDatabase() : createTestPglite();
