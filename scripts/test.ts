// npm test: the whole suite. The integration tests need PostgreSQL (expected to run already) and
// a Kafka broker at KAFKA_BROKERS (default 127.0.0.1:9092); when none answers there, the
// development broker is started for the run, with its data in a temporary folder, and stopped after.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devBrokerOptions, isListening, startDevBroker, stopDevBroker } from './kafka/devBroker.ts';

const options = devBrokerOptions();
let startedIn: string | undefined;
if (!(await isListening(options.host, options.port))) {
  startedIn = await mkdtemp(join(tmpdir(), 'te-test-kafka-'));
  const started = performance.now();
  await startDevBroker({ ...options, dataDir: startedIn });
  console.log(`started a Kafka broker on ${options.host}:${options.port} for the tests (${Math.round(performance.now() - started)} ms)`);
}

const patterns = process.argv.slice(2);
const child = spawn(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-timeout=180000', ...(patterns.length > 0 ? patterns : ['test/**/*.test.ts'])],
  { stdio: 'inherit', env: { ...process.env, KAFKA_BROKERS: `${options.host}:${options.port}` } },
);
const code = await new Promise<number>((resolve) => child.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0))));
if (startedIn !== undefined) {
  await stopDevBroker(startedIn);
  await rm(startedIn, { recursive: true, force: true });
}
process.exitCode = code;
