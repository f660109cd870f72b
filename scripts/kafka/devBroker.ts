import { spawn, execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, openSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * A single-node Apache Kafka broker in KRaft mode (broker and controller in one JVM) for
 * development, tests and CI, assembled from the org.apache.kafka artifacts on Maven Central.
 * The jars are copied once into a cache outside the work tree, so fresh clones reuse them.
 */

const run = promisify(execFile);
const kafkaDir = fileURLToPath(new URL('../../infra/kafka/', import.meta.url));

export interface DevBrokerOptions {
  /** Log directory, pid file and broker.log live here. */
  dataDir: string;
  host: string;
  port: number;
  controllerPort: number;
  /** Where the broker's jars are cached between runs. */
  cacheDir: string;
}

export function devBrokerOptions(env: NodeJS.ProcessEnv = process.env): DevBrokerOptions {
  const [host = '127.0.0.1', port = '9092'] = (env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')[0]!.split(':');
  return {
    dataDir: resolve(env.KAFKA_DATA_DIR ?? './.torrentedge/kafka'),
    host,
    port: Number(port),
    controllerPort: Number(port) + 1,
    cacheDir: resolve(env.KAFKA_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'torrentedge', 'kafka')),
  };
}

export function isListening(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host, port });
    const finish = (up: boolean) => {
      socket.destroy();
      done(up);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

async function kafkaVersion(): Promise<string> {
  const pom = await readFile(join(kafkaDir, 'pom.xml'), 'utf8');
  const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1];
  if (version === undefined) throw new Error('infra/kafka/pom.xml names no kafka.version');
  return version;
}

/** The broker's classpath folder, fetched with Maven on first use. */
export async function ensureBrokerJars(cacheDir: string): Promise<string> {
  const lib = join(cacheDir, await kafkaVersion(), 'lib');
  const complete = join(lib, '.complete');
  if (existsSync(complete)) return lib;
  await rm(lib, { recursive: true, force: true });
  await run('mvn', ['-q', '-B', '-f', join(kafkaDir, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${lib}`, '-DincludeScope=runtime'], {
    maxBuffer: 16 * 1024 * 1024,
  });
  await writeFile(complete, new Date().toISOString());
  return lib;
}

function serverProperties(options: DevBrokerOptions): string {
  const { host, port, controllerPort } = options;
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.bootstrap.servers=${host}:${controllerPort}`,
    `listeners=PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://${host}:${port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${join(options.dataDir, 'logs')}`,
    // One node: every internal topic has one replica.
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=4',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'auto.create.topics.enable=false',
    // Tests create consumer groups often; do not wait 3 s for more members.
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n');
}

const pidFile = (dataDir: string) => join(dataDir, 'broker.pid');

function java(lib: string, args: string[]): string[] {
  return ['-Xms256m', '-Xmx768m', `-Dlog4j2.configurationFile=${join(kafkaDir, 'log4j2.xml')}`, '-cp', `${lib}/*`, ...args];
}

async function readPid(dataDir: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(pidFile(dataDir), 'utf8')).trim());
    process.kill(pid, 0); // throws when no such process
    return pid;
  } catch {
    return undefined;
  }
}

/** Starts the broker (formatting its log directory on first use) and waits until it accepts connections. */
export async function startDevBroker(options: DevBrokerOptions, timeoutMs = 60_000): Promise<{ pid: number; brokers: string; started: boolean }> {
  const brokers = `${options.host}:${options.port}`;
  const running = await readPid(options.dataDir);
  if (running !== undefined && (await isListening(options.host, options.port))) return { pid: running, brokers, started: false };
  if (await isListening(options.host, options.port)) throw new Error(`something else already listens on ${brokers}`);

  const lib = await ensureBrokerJars(options.cacheDir);
  await mkdir(options.dataDir, { recursive: true });
  const config = join(options.dataDir, 'server.properties');
  await writeFile(config, serverProperties(options));
  if (!existsSync(join(options.dataDir, 'logs', 'meta.properties'))) {
    await run('java', java(lib, ['kafka.tools.StorageTool', 'format', '--standalone', '-t', randomUUID(), '-c', config]));
  }
  const log = openSync(join(options.dataDir, 'broker.log'), 'a');
  const child = spawn('java', java(lib, ['kafka.Kafka', config]), { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  const pid = child.pid!;
  await writeFile(pidFile(options.dataDir), String(pid));
  const deadline = Date.now() + timeoutMs;
  while (!(await isListening(options.host, options.port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const tail = (await readFile(join(options.dataDir, 'broker.log'), 'utf8')).slice(-2000);
      throw new Error(`the Kafka broker did not come up on ${brokers}:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { pid, brokers, started: true };
}

/** Stops the broker started from `dataDir`: SIGTERM, then SIGKILL after the grace period. */
export async function stopDevBroker(dataDir: string, graceMs = 20_000): Promise<boolean> {
  const pid = await readPid(dataDir);
  if (pid === undefined) return false;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      await rm(pidFile(dataDir), { force: true });
      return true;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  process.kill(pid, 'SIGKILL');
  await rm(pidFile(dataDir), { force: true });
  return true;
}
