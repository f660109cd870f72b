import { resolve } from 'node:path';

/**
 * The one place that reads the environment. Flags (from the CLI) win over the environment,
 * which wins over the defaults; the result is validated and normalized once.
 */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** One admin token; when neither it nor tokensFile is set, `start` generates one under dataDir. */
  adminToken: string | undefined;
  /** A JSON file of `{ subject, scopes, token | sha256 }` entries, for several tokens. */
  tokensFile: string | undefined;
  /** PostgreSQL; undefined means the embedded store under dataDir. */
  databaseUrl: string | undefined;
  /** Where client commands (`create`, `status`) reach the api. */
  apiUrl: string;
  logLevel: string;
  bodyLimitBytes: number;
  /** Kafka bootstrap brokers; undefined means the in-process bus. */
  kafkaBrokers: string[] | undefined;
  /** Partitions of torrent.events and torrent.jobs.dispatch when the relay creates them. */
  kafkaPartitions: number;
  /** OTLP/HTTP traces endpoint; undefined records no spans (trace context still passes through). */
  otlpTracesEndpoint: string | undefined;
}

export type ConfigFlags = Partial<
  Record<'port' | 'host' | 'data-dir' | 'database-url' | 'token' | 'tokens-file' | 'api-url' | 'log-level' | 'kafka-brokers', string>
>;

export const configTable = [
  ['TORRENTEDGE_PORT', '--port', '3029', 'HTTP port of the api'],
  ['TORRENTEDGE_HOST', '--host', '127.0.0.1', 'address the api binds to'],
  ['TORRENTEDGE_DATA_DIR', '--data-dir', './.torrentedge', 'embedded database, generated admin token'],
  ['TORRENTEDGE_TOKEN', '--token', '(generated)', 'admin bearer token; client commands send it'],
  ['TORRENTEDGE_TOKENS_FILE', '--tokens-file', '(none)', 'JSON file of tokens with scopes'],
  ['DATABASE_URL', '--database-url', '(embedded)', 'PostgreSQL connection string; unset runs the embedded store'],
  ['TORRENTEDGE_API_URL', '--api-url', 'http://<host>:<port>', 'api that client commands talk to'],
  ['TORRENTEDGE_LOG_LEVEL', '--log-level', 'info', 'pino log level'],
  ['KAFKA_BROKERS', '--kafka-brokers', '(in-process bus)', 'Kafka bootstrap brokers, host:port,…'],
  ['TORRENTEDGE_KAFKA_PARTITIONS', '', '6', 'partitions of the topics the relay creates'],
  ['OTEL_EXPORTER_OTLP_ENDPOINT', '', '(no export)', 'OTLP/HTTP collector; traces go to <endpoint>/v1/traces'],
] as const;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function parsePort(value: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new ConfigError(`port must be 0..65535, not "${value}"`);
  return port;
}

const levels = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export function loadConfig(env: NodeJS.ProcessEnv = process.env, flags: ConfigFlags = {}): Config {
  const pick = (flag: keyof ConfigFlags, variable: string): string | undefined => {
    const value = flags[flag] ?? env[variable];
    return value === '' ? undefined : value;
  };
  const port = parsePort(pick('port', 'TORRENTEDGE_PORT') ?? '3029');
  const host = pick('host', 'TORRENTEDGE_HOST') ?? '127.0.0.1';
  const logLevel = pick('log-level', 'TORRENTEDGE_LOG_LEVEL') ?? 'info';
  if (!levels.has(logLevel)) throw new ConfigError(`log level must be one of ${[...levels].join(', ')}, not "${logLevel}"`);
  const databaseUrl = pick('database-url', 'DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const brokers = pick('kafka-brokers', 'KAFKA_BROKERS');
  const kafkaBrokers = brokers?.split(',').map((broker) => broker.trim()).filter(Boolean);
  for (const broker of kafkaBrokers ?? []) {
    if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(broker)) throw new ConfigError(`KAFKA_BROKERS entries are host:port, not "${broker}"`);
  }
  const partitionsText = env.TORRENTEDGE_KAFKA_PARTITIONS || '6';
  const kafkaPartitions = /^\d{1,4}$/.test(partitionsText) ? Number(partitionsText) : Number.NaN;
  if (!(kafkaPartitions >= 1)) throw new ConfigError(`TORRENTEDGE_KAFKA_PARTITIONS must be a positive integer, not "${partitionsText}"`);
  return {
    port,
    host,
    dataDir: resolve(pick('data-dir', 'TORRENTEDGE_DATA_DIR') ?? './.torrentedge'),
    adminToken: pick('token', 'TORRENTEDGE_TOKEN'),
    tokensFile: pick('tokens-file', 'TORRENTEDGE_TOKENS_FILE'),
    databaseUrl,
    apiUrl: (pick('api-url', 'TORRENTEDGE_API_URL') ?? `http://${urlHost.includes(':') ? `[${urlHost}]` : urlHost}:${port}`).replace(/\/$/, ''),
    logLevel,
    bodyLimitBytes: 64 * 1024,
    kafkaBrokers: kafkaBrokers !== undefined && kafkaBrokers.length > 0 ? kafkaBrokers : undefined,
    kafkaPartitions,
    otlpTracesEndpoint:
      env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ||
      (env.OTEL_EXPORTER_OTLP_ENDPOINT ? `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/$/, '')}/v1/traces` : undefined),
  };
}
