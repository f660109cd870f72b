import { parseArgs } from 'node:util';
import { positive } from '../lib/positiveOption.ts';

export interface ControlPlaneBenchOptions {
  concurrency: number;
  seconds: number;
  /** Connections of the control plane's pool and of the baseline's pool. */
  poolSize: number;
  json: boolean;
  help: boolean;
  serverUrl: string;
}

/** createPgDatabase's default, i.e. what `torrentedge start` runs with against PostgreSQL. */
const productionPoolSize = 20;

export const usage = `usage: npm run bench -- control-plane [options]

Drives the command handlers in-process against a fresh PostgreSQL database and compares them
with bare INSERTs on the same server.

options:
  --concurrency N   concurrent clients (default 32)
  --seconds S       duration of each measured phase (default 5)
  --pool N          connections in the pool (default ${productionPoolSize}, the server default)
  --json            print one JSON object on stdout; progress goes to stderr
  --help            this text

environment:
  BENCH_DATABASE_URL  server to create the database on
                      (default postgres://postgres@127.0.0.1:5432/postgres)`;


/** Throws on an unknown flag or a bad value; the caller prints usage. */
export function parseOptions(args: string[], env: NodeJS.ProcessEnv): ControlPlaneBenchOptions {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      concurrency: { type: 'string' },
      seconds: { type: 'string' },
      pool: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  return {
    concurrency: positive('concurrency', values.concurrency, 32, true),
    seconds: positive('seconds', values.seconds, 5, false),
    poolSize: positive('pool', values.pool, productionPoolSize, true),
    json: values.json,
    help: values.help,
    serverUrl: env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  };
}
