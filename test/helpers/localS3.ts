import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import type { S3Settings } from '../../src/origin/s3Origin.ts';

/**
 * A local S3-compatible server for integration tests: Adobe's S3Mock, the executable Spring Boot
 * jar com.adobe.testing:s3mock:<version>:exec from Maven Central, run on Java 17. Chosen over the
 * in-process s3rver (@20minutes/s3rver), which starts in milliseconds but ignores If-Match on
 * GetObject, so the test that an object replaced mid-read fails could not fail. S3Mock answers
 * ranged GETs with 206, pages ListObjectsV2 by MaxKeys with continuation tokens, and answers a
 * stale If-Match with 412. It starts in about 6 s on two cores with the JIT flags below.
 *
 * The jar is fetched once with Maven into a cache outside the work tree (as scripts/kafka does).
 * S3Mock's plain-HTTP connector takes a port but no address, so it listens on all interfaces;
 * the port is a free one picked by the kernel and read from the startup log, and clients use
 * 127.0.0.1. Its main connector (HTTPS, unused) is bound to loopback.
 */
const version = '5.2.0';
const run = promisify(execFile);

export interface LocalS3 {
  endpoint: string;
  settings: S3Settings;
  /** S3Mock checks no signature; the SDK still needs some credentials to sign with. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** A client for arranging buckets and objects; destroyed by stop(). */
  client: S3Client;
  stop(): Promise<void>;
}

async function ensureJar(): Promise<string> {
  const cacheDir = process.env.S3MOCK_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'torrentedge', 's3mock');
  const jar = join(cacheDir, `s3mock-${version}-exec.jar`);
  if (existsSync(jar)) return jar;
  await mkdir(cacheDir, { recursive: true });
  // Copied into a folder of its own, then renamed: a concurrent first run never sees half a jar.
  const partial = await mkdtemp(join(cacheDir, '.partial-'));
  try {
    await run('mvn', ['-q', '-B', 'dependency:copy', `-Dartifact=com.adobe.testing:s3mock:${version}:jar:exec`, `-DoutputDirectory=${partial}`], { maxBuffer: 16 * 1024 * 1024 });
    await rename(join(partial, `s3mock-${version}-exec.jar`), jar);
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
  return jar;
}

/** Starts S3Mock with an empty store in a temporary folder and waits until it listens. */
export async function startLocalS3(timeoutMs = 120_000): Promise<LocalS3> {
  const jar = await ensureJar();
  const root = await mkdtemp(join(tmpdir(), 'te-s3mock-'));
  const child = spawn(
    'java',
    [
      // A short-lived test server: the C1 JIT alone and the serial GC halve the startup time.
      '-XX:TieredStopAtLevel=1',
      '-XX:+UseSerialGC',
      '-Xmx512m',
      '-jar',
      jar,
      '--server.address=127.0.0.1',
      '--server.port=0',
      '--http.port=0',
      `--com.adobe.testing.s3mock.store.root=${root}`,
      '--spring.main.banner-mode=off',
      '--logging.level.root=WARN',
      '--logging.level.org.springframework.boot.tomcat.TomcatWebServer=INFO',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = once(child, 'exit');
  exited.catch(() => undefined); // a failed spawn rejects it; startup reports that below
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8192));
  child.stderr.on('data', keep);

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`S3Mock did not start within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onExit = (code: number | null) => fail(new Error(`S3Mock exited with ${code} before listening:\n${output}`));
    const onData = (chunk: Buffer) => {
      keep(chunk);
      const match = /Tomcat started on ports? .*?(\d+) \(http\)/.exec(output);
      if (match !== null) done(Number(match[1]));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off('exit', onExit);
      child.off('error', fail);
      child.stdout.off('data', onData);
      child.stdout.on('data', keep); // keep draining, or S3Mock blocks on a full pipe
    };
    const done = (value: number) => {
      cleanup();
      resolve(value);
    };
    const fail = (error: Error) => {
      cleanup();
      child.kill('SIGKILL');
      reject(error);
    };
    child.stdout.on('data', onData);
    child.once('exit', onExit);
    child.once('error', fail);
  }).catch(async (error: unknown) => {
    process.off('exit', killOnExit);
    await rm(root, { recursive: true, force: true });
    throw error;
  });

  const endpoint = `http://127.0.0.1:${port}`;
  const settings: S3Settings = { endpoint, region: 'us-east-1', forcePathStyle: true };
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  const client = new S3Client({ ...settings, credentials });
  return {
    endpoint,
    settings,
    credentials,
    client,
    async stop() {
      client.destroy();
      process.off('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const forced = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(forced);
      }
      await rm(root, { recursive: true, force: true });
    },
  };
}
