import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { loadConfig } from '../config.ts';
import { createLogger } from '../observability/logger.ts';
import { createControlPlane } from '../runtime/controlPlane.ts';
import { generateArtifact } from './generateArtifact.ts';
import { startLocalOrigin } from './localOrigin.ts';
import { renderProgress } from './progressBars.ts';
import { workerNodeFlags } from '../workers/workerHeap.ts';

export interface DemoSummary {
  nodes: number;
  artifactBytes: number;
  originBytes: number;
  originRatio: number;
  peerBytes: number;
  seconds: number;
  nodeSeconds: number[];
  allIdentical: boolean;
  sha256: string;
}

interface TransferWithJobs {
  status: string;
  bytes: { origin: number; peer: number; cas: number };
  jobs: Array<{ nodeId: string; state: string; progress: number; completedAt: string | null }>;
}

const cliPath = resolve(import.meta.dirname, '../cli/main.ts');

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * `torrentedge demo`: the whole product on one machine. A control plane on embedded defaults,
 * an HTTP origin with a generated artifact, N worker processes (one per node, each with its own
 * CAS and node token), one transfer to all of them, live progress, and a summary that checks
 * every node's copy against the artifact's SHA-256.
 */
export interface DemoOptions {
  nodes: number;
  sizeBytes: number;
  json: boolean;
  timeoutMs?: number;
  /** Extra environment of each worker (e.g. TORRENTEDGE_DOWNLOAD_LIMIT, to watch a slower run). */
  workerEnv?: Record<string, string>;
  /** Called once the transfer is created, while it runs (scripts/dashboardScreenshot.ts). */
  whileRunning?: (run: { apiUrl: string; adminToken: string; transferId: string }) => Promise<void>;
}

export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const work = await mkdtemp(join(tmpdir(), 'torrentedge-demo-'));
  const logger = createLogger({ level: 'warn' });
  const workers: ChildProcess[] = [];
  const cleanups: Array<() => Promise<void>> = [async () => rm(work, { recursive: true, force: true })];
  const out = (text: string): void => void (options.json ? undefined : process.stderr.write(text));
  try {
    const artifactPath = join(work, 'checkpoint.bin');
    const sha256 = await generateArtifact(artifactPath, options.sizeBytes);
    const origin = await startLocalOrigin(artifactPath);
    cleanups.unshift(() => origin.close());

    const adminToken = `te_${randomBytes(18).toString('base64url')}`;
    const nodeIds = Array.from({ length: options.nodes }, (_, i) => `node-${String(i + 1).padStart(2, '0')}`);
    const nodeTokens = nodeIds.map(() => `te_${randomBytes(18).toString('base64url')}`);
    const tokensFile = join(work, 'tokens.json');
    await writeFile(tokensFile, JSON.stringify([{ subject: 'admin', scopes: ['admin'], token: adminToken }, ...nodeIds.map((id, i) => ({ subject: `node:${id}`, scopes: ['node'], token: nodeTokens[i] }))]), { mode: 0o600 });

    const config = loadConfig({}, { port: '0', 'data-dir': join(work, 'control-plane'), 'tokens-file': tokensFile, 'log-level': 'warn' });
    const plane = await createControlPlane(config, { logger }, { projector: true, relay: true });
    cleanups.unshift(() => plane.stop());
    const apiUrl = await plane.listen();
    const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const response = await fetch(`${apiUrl}${path}`, { method, headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
      return (await response.json()) as T;
    };

    for (const [i, nodeId] of nodeIds.entries()) {
      const child = spawn(process.execPath, [...workerNodeFlags, cliPath, 'worker', '--node-id', nodeId, '--data-dir', join(work, nodeId), '--labels', `rack=r${(i % 2) + 1},zone=demo`], {
        env: { ...process.env, TORRENTEDGE_API_URL: apiUrl, TORRENTEDGE_NODE_TOKEN: nodeTokens[i], TORRENTEDGE_LOG_LEVEL: 'warn', KAFKA_BROKERS: '', REDIS_URL: '', DATABASE_URL: '', ...options.workerEnv },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      workers.push(child);
    }
    cleanups.unshift(async () => {
      for (const child of workers) child.kill('SIGTERM');
      await Promise.all(workers.map((child) => (child.exitCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r)))));
    });
    const deadline = Date.now() + (options.timeoutMs ?? 600_000);
    while ((await call<{ items: unknown[] }>('GET', '/api/nodes')).items.length < options.nodes) {
      if (Date.now() > deadline) throw new Error('the workers did not register in time');
      await delay(50);
    }

    out(`TorrentEdge demo: ${options.nodes} nodes, ${(options.sizeBytes / 2 ** 20).toFixed(0)} MiB from ${origin.url}\n`);
    const started = Date.now();
    const { id } = await call<{ id: string }>('POST', '/api/torrent/create', { source: { url: origin.url }, name: 'checkpoint.bin', autoStart: true });
    const watcher = options.whileRunning?.({ apiUrl, adminToken, transferId: id });
    let transfer: TransferWithJobs;
    for (;;) {
      transfer = await call<TransferWithJobs>('GET', `/api/transfers/${id}`);
      if (!options.json && process.stderr.isTTY) process.stderr.write(renderProgress(transfer.jobs, (Date.now() - started) / 1000));
      const done = transfer.jobs.length === options.nodes && transfer.jobs.every((job) => job.state === 'completed');
      if (done) break;
      if (transfer.jobs.some((job) => job.state === 'failed') || transfer.status === 'failed') throw new Error(`the transfer failed: ${JSON.stringify(transfer.jobs)}`);
      if (Date.now() > deadline) throw new Error('the demo timed out');
      await delay(200);
    }
    const seconds = (Date.now() - started) / 1000;
    await watcher;
    const copies = await Promise.all(nodeIds.map((nodeId) => sha256Of(join(work, nodeId, 'artifacts', id, 'checkpoint.bin'))));
    const summary: DemoSummary = {
      nodes: options.nodes,
      artifactBytes: options.sizeBytes,
      originBytes: origin.bytesServed(),
      originRatio: origin.bytesServed() / options.sizeBytes,
      peerBytes: transfer.bytes.peer,
      seconds,
      nodeSeconds: transfer.jobs.map((job) => (new Date(job.completedAt!).getTime() - started) / 1000),
      allIdentical: copies.every((copy) => copy === sha256),
      sha256,
    };
    return summary;
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
  }
}
