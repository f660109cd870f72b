import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

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
  /** Redis for fenced leases; undefined means the in-process lease manager. */
  redisUrl: string | undefined;
  /** Signs per-transfer announce keys; undefined means a secret generated under dataDir. */
  trackerSecret: Buffer | undefined;
  /** NODE_ENV=development: GraphQL shows unexpected errors' messages instead of masking them. */
  development: boolean;
  worker: WorkerConfig;
  /**
   * s3:// sources. Credentials are not here: the AWS SDK's default provider chain reads them
   * (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, web identity, instance metadata), the
   * one reader of the environment outside this file, so that every AWS credential source works.
   */
  s3: { endpoint: string | undefined; region: string; forcePathStyle: boolean };
}

/** What `torrentedge worker` needs to know about its node. */
export interface WorkerConfig {
  nodeId: string;
  labels: Record<string, string>;
  /** The node's CAS volume (one per node; leases are per volume and transfer). */
  casDir: string;
  /** TCP port for BitTorrent peers; 0 picks a free one. */
  torrentPort: number;
  /** The node's bearer token (scope "node", subject node:<id>); falls back to TORRENTEDGE_TOKEN. */
  token: string | undefined;
  capacityBytes: number;
  /** Peer traffic caps in bytes per second (the origin read is not capped); undefined is no cap. */
  downloadLimitBytes: number | undefined;
  uploadLimitBytes: number | undefined;
  /** How long a job's lease outlives a silent worker: the takeover delay after a crash. */
  leaseTtlMs: number;
  /** Directories `torrentedge push` may seed from; a file:// source elsewhere is refused. */
  pushRoots: string[];
  /** Where a transfer's destination may be; the default destination, <data-dir>/artifacts, is the default root. */
  artifactRoots: string[];
  /** Unpinned CAS content is collected, least recently used first, from high down to low. */
  casHighWatermarkBytes: number | undefined;
  casLowWatermarkBytes: number | undefined;
  /** Prometheus metrics of the worker on this port (loopback unless TORRENTEDGE_HOST says otherwise); undefined serves none. */
  metricsPort: number | undefined;
}

export type ConfigFlags = Partial<
  Record<
    'port' | 'host' | 'data-dir' | 'database-url' | 'token' | 'tokens-file' | 'api-url' | 'log-level' | 'kafka-brokers' | 'node-id' | 'labels' | 'cas-dir' | 'torrent-port',
    string
  >
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
  ['REDIS_URL', '', '(in-process leases)', 'Redis for fenced leases, redis://host:port'],
  ['TORRENTEDGE_TRACKER_SECRET', '', '(generated)', 'hex secret (≥ 32 bytes) that signs announce keys'],
  ['NODE_ENV', '', '(production)', 'development: unexpected GraphQL errors are shown, not masked'],
  ['TORRENTEDGE_NODE_ID', '--node-id', '(hostname)', 'worker: this node\'s id'],
  ['TORRENTEDGE_NODE_LABELS', '--labels', '(none)', 'worker: labels, zone=a,rack=r1'],
  ['TORRENTEDGE_CAS_DIR', '--cas-dir', '<data-dir>/cas', 'worker: the CAS volume'],
  ['TORRENTEDGE_TORRENT_PORT', '--torrent-port', '0 (any)', 'worker: TCP port for peers'],
  ['TORRENTEDGE_NODE_TOKEN', '', '(TORRENTEDGE_TOKEN)', 'worker: the node token'],
  ['TORRENTEDGE_DOWNLOAD_LIMIT', '', '(none)', 'worker: cap on bytes/s fetched from peers'],
  ['TORRENTEDGE_UPLOAD_LIMIT', '', '(none)', 'worker: cap on bytes/s served to peers'],
  ['TORRENTEDGE_LEASE_TTL_MS', '', '15000', 'worker: job lease time-to-live (takeover delay after a crash)'],
  ['TORRENTEDGE_PUSH_ROOTS', '', '(none)', 'worker: directories push may seed from, dir1:dir2'],
  ['TORRENTEDGE_ARTIFACT_ROOTS', '', '<data-dir>/artifacts', 'worker: directories a transfer\'s destination may be in, dir1:dir2'],
  ['TORRENTEDGE_CAS_HIGH_WATERMARK', '', '(80% of the disk)', 'worker: CAS bytes above which unpinned content is collected'],
  ['TORRENTEDGE_CAS_LOW_WATERMARK', '', '(60% of the disk)', 'worker: CAS bytes that collection brings usage down to'],
  ['TORRENTEDGE_WORKER_METRICS_PORT', '', '(none)', 'worker: port of its Prometheus /metrics'],
  ['AWS_ENDPOINT_URL_S3', '', '(AWS_ENDPOINT_URL)', 'worker: S3 endpoint for s3:// sources (an S3-compatible server)'],
  ['AWS_REGION', '', 'us-east-1', 'worker: region of s3:// sources; credentials come from the AWS SDK\'s chain'],
  ['TORRENTEDGE_S3_FORCE_PATH_STYLE', '', 'true with an endpoint', 'worker: bucket in the URL path, not the host name'],
] as const;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function parsePort(value: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new ConfigError(`port must be 0..65535, not "${value}"`);
  return port;
}

function parseLabels(text: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of (text ?? '').split(',').map((part) => part.trim()).filter(Boolean)) {
    const match = /^([a-z0-9][a-z0-9./_-]{0,62})=(.{0,63})$/.exec(pair);
    if (match === null) throw new ConfigError(`node labels are key=value,…; "${pair}" is not`);
    labels[match[1]!] = match[2]!;
  }
  return labels;
}

function parseRate(variable: string, text: string | undefined, unit = 'bytes per second'): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,15}$/.test(text) || Number(text) < 1) throw new ConfigError(`${variable} is a positive number of ${unit}, not "${text}"`);
  return Number(text);
}

function parseRoots(variable: string, text: string | undefined): string[] {
  const roots = (text ?? '').split(':').filter(Boolean);
  for (const root of roots) if (!root.startsWith('/')) throw new ConfigError(`${variable} holds absolute directories, not "${root}"`);
  return roots.map((root) => resolve(root));
}

function parseLeaseTtl(text: string): number {
  const ttl = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (!(ttl >= 1000)) throw new ConfigError(`TORRENTEDGE_LEASE_TTL_MS is at least 1000 (ms), not "${text}"`);
  return ttl;
}

function parseSecret(text: string | undefined): Buffer | undefined {
  if (text === undefined) return undefined;
  if (!/^([0-9a-f]{2}){32,}$/i.test(text)) throw new ConfigError('TORRENTEDGE_TRACKER_SECRET must be at least 64 hex digits');
  return Buffer.from(text, 'hex');
}

function parseS3(env: NodeJS.ProcessEnv): Config['s3'] {
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/]/.test(endpoint)) throw new ConfigError(`the S3 endpoint must be an http:// or https:// URL, not "${endpoint}"`);
  const pathStyle = env.TORRENTEDGE_S3_FORCE_PATH_STYLE || undefined;
  if (pathStyle !== undefined && pathStyle !== 'true' && pathStyle !== 'false') throw new ConfigError(`TORRENTEDGE_S3_FORCE_PATH_STYLE is true or false, not "${pathStyle}"`);
  return { endpoint, region: env.AWS_REGION || 'us-east-1', forcePathStyle: pathStyle === undefined ? endpoint !== undefined : pathStyle === 'true' };
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
  const dataDir = resolve(pick('data-dir', 'TORRENTEDGE_DATA_DIR') ?? './.torrentedge');
  const redisUrl = env.REDIS_URL || undefined;
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) throw new ConfigError('REDIS_URL must be a redis:// or rediss:// URL');
  const nodeId = pick('node-id', 'TORRENTEDGE_NODE_ID') ?? hostname();
  if (!/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/.test(nodeId)) throw new ConfigError(`node id "${nodeId}" must be 1–128 of letters, digits and _.:- (starting with a letter or digit)`);
  return {
    port,
    host,
    dataDir,
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
    redisUrl,
    trackerSecret: parseSecret(env.TORRENTEDGE_TRACKER_SECRET || undefined),
    development: env.NODE_ENV === 'development',
    worker: {
      nodeId,
      labels: parseLabels(pick('labels', 'TORRENTEDGE_NODE_LABELS')),
      casDir: resolve(pick('cas-dir', 'TORRENTEDGE_CAS_DIR') ?? join(dataDir, 'cas')),
      torrentPort: parsePort(pick('torrent-port', 'TORRENTEDGE_TORRENT_PORT') ?? '0'),
      token: env.TORRENTEDGE_NODE_TOKEN || pick('token', 'TORRENTEDGE_TOKEN'),
      capacityBytes: 2 ** 40,
      downloadLimitBytes: parseRate('TORRENTEDGE_DOWNLOAD_LIMIT', env.TORRENTEDGE_DOWNLOAD_LIMIT || undefined),
      uploadLimitBytes: parseRate('TORRENTEDGE_UPLOAD_LIMIT', env.TORRENTEDGE_UPLOAD_LIMIT || undefined),
      leaseTtlMs: parseLeaseTtl(env.TORRENTEDGE_LEASE_TTL_MS || '15000'),
      pushRoots: parseRoots('TORRENTEDGE_PUSH_ROOTS', env.TORRENTEDGE_PUSH_ROOTS || undefined),
      artifactRoots: env.TORRENTEDGE_ARTIFACT_ROOTS ? parseRoots('TORRENTEDGE_ARTIFACT_ROOTS', env.TORRENTEDGE_ARTIFACT_ROOTS) : [join(dataDir, 'artifacts')],
      casHighWatermarkBytes: parseRate('TORRENTEDGE_CAS_HIGH_WATERMARK', env.TORRENTEDGE_CAS_HIGH_WATERMARK || undefined, 'bytes'),
      casLowWatermarkBytes: parseRate('TORRENTEDGE_CAS_LOW_WATERMARK', env.TORRENTEDGE_CAS_LOW_WATERMARK || undefined, 'bytes'),
      metricsPort: env.TORRENTEDGE_WORKER_METRICS_PORT ? parsePort(env.TORRENTEDGE_WORKER_METRICS_PORT) : undefined,
    },
    s3: parseS3(env),
  };
}
