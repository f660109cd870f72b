import { hostname } from 'node:os';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isAbsolute, resolve } from 'node:path';
import { ConfigError, loadConfig, type ConfigFlags } from '../../src/config.ts';

function assertConfigError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'ConfigError');
    assert.match(error.message, message);
    return true;
  });
}

const fullEnv = {
  TORRENTEDGE_PORT: '8080',
  TORRENTEDGE_HOST: '10.1.2.3',
  TORRENTEDGE_DATA_DIR: '/var/lib/torrentedge',
  TORRENTEDGE_TOKEN: 'env-token',
  TORRENTEDGE_TOKENS_FILE: '/etc/torrentedge/tokens.json',
  DATABASE_URL: 'postgres://te@db.internal:5432/te',
  TORRENTEDGE_API_URL: 'https://te.internal',
  TORRENTEDGE_LOG_LEVEL: 'debug',
  KAFKA_BROKERS: 'kafka-1:9092,kafka-2:9092',
  TORRENTEDGE_KAFKA_PARTITIONS: '12',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
  REDIS_URL: 'redis://cache.internal:6379',
  TORRENTEDGE_TRACKER_SECRET: 'ab'.repeat(32),
  NODE_ENV: 'development',
  TORRENTEDGE_NODE_ID: 'gpu-17',
  TORRENTEDGE_NODE_LABELS: 'zone=eu-1a, rack=r7',
  TORRENTEDGE_CAS_DIR: '/srv/cas',
  TORRENTEDGE_TORRENT_PORT: '6881',
  TORRENTEDGE_NODE_TOKEN: 'node-token',
  TORRENTEDGE_DOWNLOAD_LIMIT: '10000000',
  TORRENTEDGE_UPLOAD_LIMIT: '20000000',
  TORRENTEDGE_LEASE_TTL_MS: '5000',
  TORRENTEDGE_PUSH_ROOTS: '/data/models:/srv/builds/',
  TORRENTEDGE_ARTIFACT_ROOTS: '/srv/models',
  TORRENTEDGE_CAS_HIGH_WATERMARK: '900',
  TORRENTEDGE_CAS_LOW_WATERMARK: '600',
  TORRENTEDGE_WORKER_METRICS_PORT: '9464',
  AWS_ENDPOINT_URL_S3: 'http://minio.internal:9000',
  AWS_REGION: 'eu-west-1',
  TORRENTEDGE_S3_FORCE_PATH_STYLE: 'false',
};

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({}, {});
    assert.deepEqual(config, {
      port: 3029,
      host: '127.0.0.1',
      dataDir: resolve(process.cwd(), '.torrentedge'),
      adminToken: undefined,
      tokensFile: undefined,
      databaseUrl: undefined,
      apiUrl: 'http://127.0.0.1:3029',
      logLevel: 'info',
      bodyLimitBytes: 64 * 1024,
      kafkaBrokers: undefined,
      kafkaPartitions: 6,
      otlpTracesEndpoint: undefined,
      redisUrl: undefined,
      trackerSecret: undefined,
      development: false,
      worker: { nodeId: hostname(), labels: {}, casDir: resolve(process.cwd(), '.torrentedge', 'cas'), torrentPort: 0, token: undefined, capacityBytes: 2 ** 40, downloadLimitBytes: undefined, uploadLimitBytes: undefined, leaseTtlMs: 15_000, pushRoots: [], artifactRoots: [resolve(process.cwd(), '.torrentedge', 'artifacts')], casHighWatermarkBytes: undefined, casLowWatermarkBytes: undefined, metricsPort: undefined },
      s3: { endpoint: undefined, region: 'us-east-1', forcePathStyle: false },
    });
    assert.ok(isAbsolute(config.dataDir));
  });

  it('reads every variable from the environment', () => {
    assert.deepEqual(loadConfig(fullEnv), {
      port: 8080,
      host: '10.1.2.3',
      dataDir: '/var/lib/torrentedge',
      adminToken: 'env-token',
      tokensFile: '/etc/torrentedge/tokens.json',
      databaseUrl: 'postgres://te@db.internal:5432/te',
      apiUrl: 'https://te.internal',
      logLevel: 'debug',
      bodyLimitBytes: 64 * 1024,
      kafkaBrokers: ['kafka-1:9092', 'kafka-2:9092'],
      kafkaPartitions: 12,
      otlpTracesEndpoint: 'http://collector:4318/v1/traces',
      redisUrl: 'redis://cache.internal:6379',
      trackerSecret: Buffer.from('ab'.repeat(32), 'hex'),
      development: true,
      worker: { nodeId: 'gpu-17', labels: { zone: 'eu-1a', rack: 'r7' }, casDir: '/srv/cas', torrentPort: 6881, token: 'node-token', capacityBytes: 2 ** 40, downloadLimitBytes: 10_000_000, uploadLimitBytes: 20_000_000, leaseTtlMs: 5000, pushRoots: ['/data/models', '/srv/builds'], artifactRoots: ['/srv/models'], casHighWatermarkBytes: 900, casLowWatermarkBytes: 600, metricsPort: 9464 },
      s3: { endpoint: 'http://minio.internal:9000', region: 'eu-west-1', forcePathStyle: false },
    });
  });

  it('S3 settings: AWS_ENDPOINT_URL as fallback, path style by default only with an endpoint', () => {
    assert.deepEqual(loadConfig({ AWS_ENDPOINT_URL: 'http://127.0.0.1:9000' }).s3, { endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', forcePathStyle: true });
    assert.equal(loadConfig({ AWS_ENDPOINT_URL: 'http://a:1', AWS_ENDPOINT_URL_S3: 'http://b:2' }).s3.endpoint, 'http://b:2');
    assert.equal(loadConfig({ TORRENTEDGE_S3_FORCE_PATH_STYLE: 'true' }).s3.forcePathStyle, true);
    assertConfigError(() => loadConfig({ AWS_ENDPOINT_URL_S3: 'minio:9000' }), /S3 endpoint must be an http/);
    assertConfigError(() => loadConfig({ TORRENTEDGE_S3_FORCE_PATH_STYLE: 'yes' }), /true or false, not "yes"/);
  });

  it('rejects malformed worker settings', () => {
    assertConfigError(() => loadConfig({ TORRENTEDGE_NODE_LABELS: 'zone' }), /key=value/);
    assertConfigError(() => loadConfig({ TORRENTEDGE_NODE_ID: '../x' }), /node id/);
    assertConfigError(() => loadConfig({ TORRENTEDGE_TRACKER_SECRET: 'abcd' }), /64 hex digits/);
    assertConfigError(() => loadConfig({ REDIS_URL: 'localhost:6379' }), /redis:\/\//);
    assertConfigError(() => loadConfig({ TORRENTEDGE_DOWNLOAD_LIMIT: '10MB' }), /bytes per second/);
    assertConfigError(() => loadConfig({ TORRENTEDGE_PUSH_ROOTS: 'relative/dir' }), /absolute directories/);
  });

  it('rejects malformed Kafka settings', () => {
    assertConfigError(() => loadConfig({ KAFKA_BROKERS: 'kafka-1' }), /host:port, not "kafka-1"/);
    assertConfigError(() => loadConfig({ TORRENTEDGE_KAFKA_PARTITIONS: '0' }), /positive integer/);
  });

  it('an empty variable counts as unset', () => {
    const empty = Object.fromEntries(Object.keys(fullEnv).map((name) => [name, '']));
    assert.deepEqual(loadConfig(empty), loadConfig({}));
  });

  it('resolves a relative data dir against the working directory', () => {
    assert.equal(loadConfig({ TORRENTEDGE_DATA_DIR: 'state/te' }).dataDir, resolve(process.cwd(), 'state/te'));
  });

  const flagCases: Array<[keyof ConfigFlags, string, (c: ReturnType<typeof loadConfig>) => unknown, unknown]> = [
    ['port', '9090', (c) => c.port, 9090],
    ['host', '192.168.0.7', (c) => c.host, '192.168.0.7'],
    ['data-dir', '/srv/te', (c) => c.dataDir, '/srv/te'],
    ['token', 'flag-token', (c) => c.adminToken, 'flag-token'],
    ['tokens-file', '/tmp/tokens.json', (c) => c.tokensFile, '/tmp/tokens.json'],
    ['database-url', 'postgresql://flag@db:5432/te', (c) => c.databaseUrl, 'postgresql://flag@db:5432/te'],
    ['api-url', 'http://flag.example:1234', (c) => c.apiUrl, 'http://flag.example:1234'],
    ['log-level', 'warn', (c) => c.logLevel, 'warn'],
  ];
  for (const [flag, value, read, expected] of flagCases) {
    it(`--${flag} wins over the environment`, () => {
      const config = loadConfig(fullEnv, { [flag]: value });
      assert.deepEqual(read(config), expected);
      assert.notDeepEqual(read(loadConfig(fullEnv)), expected, 'the environment alone gives something else');
    });
  }

  it('flags work without any environment', () => {
    const config = loadConfig({}, { port: '4000', host: 'localhost' });
    assert.equal(config.port, 4000);
    assert.equal(config.apiUrl, 'http://localhost:4000');
  });

  describe('apiUrl', () => {
    const derived: Array<[string, string]> = [
      ['0.0.0.0', 'http://127.0.0.1:3029'],
      ['::', 'http://127.0.0.1:3029'],
      ['::1', 'http://[::1]:3029'],
      ['te.example.com', 'http://te.example.com:3029'],
    ];
    for (const [host, apiUrl] of derived) {
      it(`is derived from host ${host} and the port`, () => {
        assert.equal(loadConfig({ TORRENTEDGE_HOST: host }).apiUrl, apiUrl);
      });
    }

    it('follows the port', () => {
      assert.equal(loadConfig({ TORRENTEDGE_PORT: '8443' }).apiUrl, 'http://127.0.0.1:8443');
    });

    it('loses a trailing slash', () => {
      assert.equal(loadConfig({ TORRENTEDGE_API_URL: 'https://te.internal/' }).apiUrl, 'https://te.internal');
    });
  });

  describe('port', () => {
    for (const port of ['0', '1', '65535']) {
      it(`accepts ${port}`, () => {
        assert.equal(loadConfig({ TORRENTEDGE_PORT: port }).port, Number(port));
      });
    }

    for (const port of ['abc', '-1', '65536', '80.5', '3029abc', 'NaN', 'Infinity']) {
      it(`rejects "${port}" with ConfigError`, () => {
        assertConfigError(() => loadConfig({ TORRENTEDGE_PORT: port }), new RegExp(`port must be 0\\.\\.65535, not "${port}"`));
      });
    }

    it('rejects a bad --port flag even over a good environment', () => {
      assertConfigError(() => loadConfig({ TORRENTEDGE_PORT: '8080' }, { port: '70000' }), /not "70000"/);
    });

    it(
      'rejects hex and exponent notation',
      () => {
        assertConfigError(() => loadConfig({ TORRENTEDGE_PORT: '0x50' }), /port must be/);
        assertConfigError(() => loadConfig({ TORRENTEDGE_PORT: '1e3' }), /port must be/);
      },
    );
  });

  describe('DATABASE_URL', () => {
    for (const url of ['postgres://u@h:5432/d', 'postgresql://u:p@h/d?sslmode=require']) {
      it(`accepts ${url}`, () => {
        assert.equal(loadConfig({ DATABASE_URL: url }).databaseUrl, url);
      });
    }

    for (const url of ['mysql://u@h/d', 'localhost:5432', 'http://h/d', 'postgres:/h/d', ' postgres://h/d']) {
      it(`rejects "${url}" with ConfigError`, () => {
        assertConfigError(() => loadConfig({ DATABASE_URL: url }), /DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL/);
      });
    }

    it('rejects a bad --database-url flag', () => {
      assertConfigError(() => loadConfig({}, { 'database-url': 'sqlite://x' }), /DATABASE_URL must be/);
    });
  });

  describe('log level', () => {
    for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) {
      it(`accepts ${level}`, () => {
        assert.equal(loadConfig({ TORRENTEDGE_LOG_LEVEL: level }).logLevel, level);
      });
    }

    it('rejects an unknown level with ConfigError', () => {
      assertConfigError(() => loadConfig({ TORRENTEDGE_LOG_LEVEL: 'verbose' }), /log level must be one of .*not "verbose"/);
    });
  });
});
