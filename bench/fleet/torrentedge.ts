import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createControlPlane } from '../../src/runtime/controlPlane.ts';
import { workerNodeFlags } from '../../src/workers/workerHeap.ts';
import { createBenchDatabase } from '../controlPlane/benchDatabase.ts';
import { spawnInNamespace, stopChild, stderrOf } from './shell.ts';
import { pause, type FleetSystem } from './system.ts';

const cliPath = resolve(import.meta.dirname, '../../src/cli/main.ts');
const token = (): string => `te_${randomBytes(18).toString('base64url')}`;

interface TransferJobs {
  status: string;
  jobs: Array<{ nodeId: string; state: string; completedAt: string | null }>;
}

/**
 * TorrentEdge as a user runs it: the control plane on the host side (bound to the spine bridge's
 * address, so the tracker's announce URLs point there) on PostgreSQL, or on the embedded PGlite
 * with --database embedded; one worker per node namespace with its own data folder, token and
 * rack label; one transfer from the HTTP origin.
 */
export const torrentedge: FleetSystem = {
  async prepare(context, cleanup) {
    const { network, artifact, workDir } = context;
    const admin = token();
    const nodeIds = network.nodes.map((node) => node.ns.replace('tef-', ''));
    const nodeTokens = nodeIds.map(() => token());
    const tokensFile = join(workDir, 'tokens.json');
    const entries = [{ subject: 'admin', scopes: ['admin'], token: admin }, ...nodeIds.map((id, i) => ({ subject: `node:${id}`, scopes: ['node'], token: nodeTokens[i] }))];
    await writeFile(tokensFile, JSON.stringify(entries), { mode: 0o600 });

    // PGlite is PostgreSQL in WebAssembly on the harness's thread: at 8 nodes it took about 40% of
    // the machine's two cores, which the workers then did not have.
    const database = context.databaseServerUrl === undefined ? undefined : await createBenchDatabase(context.databaseServerUrl);
    if (database !== undefined) cleanup.push(`drop the database ${database.name}`, () => database.drop(), 20_000);
    const config = loadConfig({}, {
      port: '0',
      host: network.apiAddress,
      'data-dir': join(workDir, 'control-plane'),
      'tokens-file': tokensFile,
      'log-level': 'warn',
      ...(database === undefined ? {} : { 'database-url': database.url }),
    });
    const plane = await createControlPlane(config, { logger: createLogger({ level: 'warn', destination: 2 }) }, { projector: true, relay: true });
    cleanup.push('stop the control plane', () => plane.stop(), 10_000);
    const apiUrl = await plane.listen();
    const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const headers: Record<string, string> = { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
      const response = await fetch(`${apiUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
      return (await response.json()) as T;
    };

    const workers = network.nodes.map((node, i) => {
      const labels = `zone=fleet,rack=${node.rack === undefined ? 'r1' : `r${node.rack}`}`;
      const env = { ...process.env, TORRENTEDGE_API_URL: apiUrl, TORRENTEDGE_NODE_TOKEN: nodeTokens[i], TORRENTEDGE_LOG_LEVEL: 'warn', KAFKA_BROKERS: '', REDIS_URL: '', DATABASE_URL: '' };
      const child = spawnInNamespace(node.ns, process.execPath, [...workerNodeFlags, ...context.workerNodeArgs, cliPath, 'worker', '--node-id', nodeIds[i]!, '--data-dir', join(workDir, nodeIds[i]!), '--labels', labels], env);
      return { child, stderr: () => stderrOf(child) };
    });
    cleanup.push('stop the workers', () => Promise.all(workers.map(({ child }) => stopChild(child, 5000))), 15_000);
    // Start-up is CPU work (loading the TypeScript sources): 16 workers on 2 busy cores need a while.
    const registerSeconds = 30 + 4 * nodeIds.length;
    const registered = performance.now() + registerSeconds * 1000;
    while ((await call<{ items: unknown[] }>('GET', '/api/nodes')).items.length < nodeIds.length) {
      const dead = workers.find(({ child }) => child.exitCode !== null);
      if (dead !== undefined) throw new Error(`a worker exited: ${dead.stderr()}`);
      if (performance.now() > registered) throw new Error(`the workers did not register within ${registerSeconds} s`);
      await pause(100, AbortSignal.timeout(1000));
    }

    let transferId = '';
    return {
      rootPids: () => workers.map(({ child }) => child.pid!),
      originPids: () => [],
      originPayloadBytes: () => context.origin.servedBytes(),
      nodeFile: (i) => join(workDir, nodeIds[i]!, 'artifacts', transferId, artifact.name),
      async distribute(deadline, signal) {
        const startedWall = Date.now();
        ({ id: transferId } = await call<{ id: string }>('POST', '/api/torrent/create', { source: { url: context.origin.url }, name: artifact.name, autoStart: true }));
        let transfer: TransferJobs;
        let originStartSeconds: number | undefined;
        let originReadSeconds: number | undefined;
        for (;;) {
          if (originReadSeconds === undefined) {
            const served = await context.origin.servedBytes();
            if (originStartSeconds === undefined && served > 0) originStartSeconds = (Date.now() - startedWall) / 1000;
            if (served >= artifact.bytes) originReadSeconds = (Date.now() - startedWall) / 1000;
          }
          // Read models are eventually consistent: a transfer just created may not be projected yet (404).
          const answer = await call<TransferJobs>('GET', `/api/transfers/${transferId}`).catch((error: unknown) => {
            if (error instanceof Error && error.message.includes(': 404 ') && performance.now() < deadline) return undefined;
            throw error;
          });
          if (answer === undefined) {
            signal.throwIfAborted();
            await pause(100, signal);
            continue;
          }
          transfer = answer;
          const done = transfer.jobs.length === nodeIds.length && transfer.jobs.every((job) => job.state === 'completed');
          if (done || transfer.status === 'failed' || transfer.jobs.some((job) => job.state === 'failed')) break;
          if (performance.now() > deadline || signal.aborted) break;
          await pause(100, signal);
        }
        signal.throwIfAborted();
        // When the seed began and ended reading the artifact: what the rest of the fleet's time is measured against.
        if (originReadSeconds !== undefined) context.log(`torrentedge: the origin was read from ${originStartSeconds?.toFixed(1)} s to the end at ${originReadSeconds.toFixed(1)} s`);
        if (transfer.jobs.some((job) => job.state === 'failed')) context.log(`torrentedge: failed jobs: ${JSON.stringify(transfer.jobs)}`);
        // completedAt is the api's clock, the same machine's as startedWall.
        return nodeIds.map((id) => {
          const job = transfer.jobs.find((candidate) => candidate.nodeId === id);
          return job?.completedAt == null ? undefined : (new Date(job.completedAt).getTime() - startedWall) / 1000;
        });
      },
    };
  },
};
