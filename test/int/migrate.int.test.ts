import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadMigrations, migrate, migrationsDir } from '../../src/infra/postgres/migrate.ts';
import { createPgDatabase } from '../../src/infra/postgres/pgDatabase.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.ts';

describe('migrations (PostgreSQL)', () => {
  let database: TestDatabase;
  before(async () => (database = await createTestDatabase({ migrate: false })));
  after(() => database.drop());

  it('are numbered and forward-only, and apply once when several processes start at once', async () => {
    const migrations = await loadMigrations();
    assert.deepEqual(migrations.map((m) => m.version), migrations.map((_, i) => i + 1), 'numbered 1..n without gaps');

    // Five "processes", each with its own pool, migrating the same empty database concurrently.
    const pools = Array.from({ length: 5 }, () => createPgDatabase({ logger: silentLogger() }, { connectionString: database.url }));
    try {
      const applied = await Promise.all(pools.map((db) => migrate(db, { logger: silentLogger() })));
      assert.deepEqual(applied.flat().sort(), migrations.map((m) => m.version), 'each migration applied by exactly one');
      assert.deepEqual(await migrate(pools[0]!, { logger: silentLogger() }), [], 'nothing left to do');
    } finally {
      await Promise.all(pools.map((db) => db.close()));
    }
    const { rows } = await database.db.query<{ version: number }>('SELECT version FROM te_migrations ORDER BY version');
    assert.deepEqual(rows.map((row) => row.version), migrations.map((m) => m.version));
  });

  it('roll back a failing migration whole and leave the schema as it was', async () => {
    const dir = `${await mkdtemp(join(tmpdir(), 'te-migrations-'))}/`;
    try {
      await cp(migrationsDir, dir, { recursive: true });
      await writeFile(`${dir}000099_broken.sql`, 'CREATE TABLE te_half_done (id int);\nSELECT no_such_function();\n');
      await assert.rejects(migrate(database.db, { logger: silentLogger() }, dir), /no_such_function/);
      const { rows } = await database.db.query("SELECT to_regclass('te_half_done') AS t");
      assert.deepEqual(rows, [{ t: null }]);
      const { rows: versions } = await database.db.query<{ n: number }>('SELECT count(*)::int AS n FROM te_migrations WHERE version = 99');
      assert.equal(versions[0]!.n, 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  it('000005 hands te_transfers and te_jobs to one projection: both are emptied with their checkpoints, the others kept', async () => {
    const fresh = await createTestDatabase({ migrate: false });
    const dir = `${await mkdtemp(join(tmpdir(), 'te-migrations-'))}/`;
    try {
      await cp(migrationsDir, dir, { recursive: true });
      await rm(`${dir}000005_transfers_and_jobs_one_checkpoint.sql`);
      await migrate(fresh.db, { logger: silentLogger() }, dir);
      await fresh.db.query("INSERT INTO te_projection_checkpoints (projection, checkpoint) VALUES ('transfers', 'a'), ('jobs', 'b'), ('chunks', 'c')");
      assert.deepEqual(await migrate(fresh.db, { logger: silentLogger() }), [5]);
      const { rows } = await fresh.db.query<{ projection: string }>('SELECT projection FROM te_projection_checkpoints ORDER BY projection');
      assert.deepEqual(rows.map((row) => row.projection), ['chunks'], 'the projector starts transfers from the log start');
    } finally {
      await rm(dir, { recursive: true, force: true });
      await fresh.drop();
    }
  });
});
