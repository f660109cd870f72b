import pg from 'pg';
import type { Logger } from 'pino';
import type { SqlDatabase, SqlExecutor, SqlRow } from './sqlDatabase.ts';

// int8 (positions, revisions, fencing tokens, byte counts) as JS numbers, as PGlite returns them:
// every such value stays far below 2^53.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format) as (value: string) => unknown;
  },
};

export interface PgDatabaseOptions {
  connectionString: string;
  maxConnections?: number;
  applicationName?: string;
}

export function createPgDatabase(deps: { logger: Logger }, options: PgDatabaseOptions): SqlDatabase {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 20,
    application_name: options.applicationName ?? 'torrentedge',
    types,
  });
  // An idle client that loses its connection emits on the pool; unhandled, it would crash the process.
  pool.on('error', (error) => deps.logger.error({ err: error }, 'postgres pool client error'));

  const executor = (client: pg.PoolClient | pg.Pool): SqlExecutor => ({
    async query<R extends SqlRow>(sql: string, params?: readonly unknown[]) {
      const result = await client.query<R>(sql, params as unknown[] | undefined);
      return { rows: result.rows };
    },
    async exec(sql: string) {
      await client.query(sql); // no parameters: the simple protocol, which allows several statements
    },
  });

  async function withClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      return await fn(client);
    } catch (error) {
      broken = error instanceof Error && sqlConnectionLost(error) ? error : undefined;
      throw error;
    } finally {
      client.release(broken);
    }
  }

  return {
    kind: 'postgres',
    ...executor(pool),
    transaction: (fn) =>
      withClient(async (client) => {
        await client.query('BEGIN');
        try {
          const result = await fn(executor(client));
          await client.query('COMMIT');
          return result;
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      }),
    withSession: (fn) => withClient((client) => fn(executor(client))),
    async listen(channel, onNotify) {
      // A dedicated client outside the pool: LISTEN is per session and must outlive any query.
      const client = new pg.Client({ connectionString: options.connectionString, types });
      client.on('error', (error) => deps.logger.error({ err: error, channel }, 'postgres listener error'));
      client.on('notification', (message) => {
        if (message.channel === channel) onNotify(message.payload ?? '');
      });
      await client.connect();
      await client.query(`LISTEN ${quoteIdentifier(channel)}`);
      return async () => {
        await client.end().catch(() => undefined);
      };
    },
    close: () => pool.end(),
  };
}

function sqlConnectionLost(error: Error): boolean {
  return /Connection terminated|ECONNRESET|EPIPE/.test(error.message);
}

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
