import pg from 'pg';
import type { Logger } from 'pino';
import type { QueryOptions, SqlDatabase, SqlExecutor, SqlRow } from './sqlDatabase.ts';

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
  // A client whose server connection dies emits 'error', possibly after it was handed back to
  // the pool and discarded; with no listener at that moment the process would crash. So every
  // client gets one for its whole life.
  pool.on('connect', (client) => client.on('error', (error) => deps.logger.warn({ err: error }, 'postgres connection lost')));

  const executor = (client: pg.PoolClient | pg.Pool): SqlExecutor => ({
    async query<R extends SqlRow>(sql: string, params?: readonly unknown[], options?: QueryOptions) {
      const values = params as unknown[] | undefined;
      const result = await (options?.name === undefined
        ? client.query<R>(sql, values)
        : client.query<R>({ name: options.name, text: sql, ...(values === undefined ? {} : { values }) }));
      return { rows: result.rows };
    },
    async exec(sql: string) {
      await client.query(sql); // no parameters: the simple protocol, which allows several statements
    },
  });

  async function withClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    // A connection that dies while checked out: discard the client on release.
    let broken: Error | undefined;
    const onError = (error: Error) => {
      broken = error;
    };
    client.on('error', onError);
    try {
      return await fn(client);
    } catch (error) {
      if (error instanceof Error && sqlConnectionLost(error)) broken ??= error;
      throw error;
    } finally {
      client.off('error', onError);
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
      // A dedicated connection outside the pool: LISTEN is per session and must outlive any query.
      // When it drops it is re-established with backoff; subscribers' safety polls cover the gap.
      let stopped = false;
      let client: pg.Client | undefined;
      let retryMs = 100;
      const connect = async (): Promise<void> => {
        const next = new pg.Client({ connectionString: options.connectionString, types });
        next.on('notification', (message) => {
          if (message.channel === channel) onNotify(message.payload ?? '');
        });
        next.on('error', (error) => {
          if (client !== next) return;
          deps.logger.warn({ err: error, channel }, 'postgres listener lost its connection; reconnecting');
          client = undefined;
          void next.end().catch(() => undefined);
          scheduleConnect();
        });
        await next.connect();
        await next.query(`LISTEN ${quoteIdentifier(channel)}`);
        if (stopped) {
          await next.end();
          return;
        }
        client = next;
        retryMs = 100;
      };
      const scheduleConnect = (): void => {
        if (stopped) return;
        const timer = setTimeout(() => {
          // Appends made while disconnected raised no notification here: wake the listener once.
          connect().then(() => onNotify(''), (error: unknown) => {
            deps.logger.warn({ err: error, channel }, 'postgres listener reconnect failed');
            retryMs = Math.min(retryMs * 2, 5000);
            scheduleConnect();
          });
        }, retryMs);
        timer.unref();
      };
      await connect();
      return async () => {
        stopped = true;
        await client?.end().catch(() => undefined);
      };
    },
    close: () => pool.end(),
  };
}

function sqlConnectionLost(error: Error): boolean {
  // 57P01 admin_shutdown (pg_terminate_backend, server restart), 08xxx connection exceptions.
  const code = (error as { code?: unknown }).code;
  return (typeof code === 'string' && (code === '57P01' || code.startsWith('08'))) || /Connection terminated|ECONNRESET|EPIPE/.test(error.message);
}

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
