import type { JobCommands } from '../../src/commands/jobCommands.ts';
import type { TransferCommands } from '../../src/commands/transferCommands.ts';
import { runClosedLoop, type ClosedLoopOptions, type ClosedLoopResult } from '../lib/closedLoop.ts';
import { createCommandClock, type CommandClock } from './commandClock.ts';
import type { ProjectionLagProbe } from './projectionLagProbe.ts';

export interface PhaseDeps {
  transfers: TransferCommands;
  jobs: JobCommands;
  probe: ProjectionLagProbe;
}

// A 16 GiB artifact in 4 MiB pieces, reported 16 chunks at a time: 256 reports fill one job.
const manifest = { pieceLength: 4 * 2 ** 20, pieceCount: 4096, totalBytes: 4096 * 4 * 2 ** 20 };
const chunksPerReport = 16;
const fencingToken = 1;

interface Job {
  transferId: string;
  nodeId: string;
  nextChunk: number;
}

/** One simulated client: its own clock, the transfers it created, its job. Clients share no stream, so no command conflicts. */
interface Client {
  index: number;
  clock: CommandClock;
  created: string[];
  lifecycle?: { transferId: string; paused: boolean };
  job?: Job;
  jobsStarted: number;
}

export function createClients(count: number): Client[] {
  return Array.from({ length: count }, (_, index) => ({ index, clock: createCommandClock(), created: [], jobsStarted: 0 }));
}

function clientAt(clients: readonly Client[], index: number): Client {
  const client = clients[index];
  if (client === undefined) throw new Error(`no client ${index}`);
  return client;
}

async function createTransfer(deps: PhaseDeps, client: Client): Promise<string> {
  const { result } = await deps.transfers.createTransfer(
    { source: { url: `https://origin.bench.invalid/artifacts/${client.index}/${client.created.length}.img` }, autoStart: true },
    client.clock.next(),
  );
  client.created.push(result.id);
  return result.id;
}

/** Phase 1: createTransfer from a source URL, started at once (two events per append). */
export function runCreatePhase(deps: PhaseDeps, clients: Client[], loop: ClosedLoopOptions): Promise<ClosedLoopResult> {
  return runClosedLoop(loop, {
    async operation(index) {
      const transferId = await createTransfer(deps, clientAt(clients, index));
      deps.probe.afterCommand(() => ({ table: 'te_transfers', transferId, status: 'running' }));
    },
  });
}

/** Phase 2: pause, resume, pause, ... each client on one running transfer it created. */
export async function runLifecyclePhase(deps: PhaseDeps, clients: Client[], loop: ClosedLoopOptions): Promise<ClosedLoopResult> {
  for (const client of clients) {
    const transferId = client.created[0] ?? (await createTransfer(deps, client));
    client.lifecycle = { transferId, paused: false };
  }
  return runClosedLoop(loop, {
    async operation(index) {
      const client = clientAt(clients, index);
      const lifecycle = client.lifecycle!;
      const context = client.clock.next();
      await deps.transfers.changeLifecycle(lifecycle.transferId, lifecycle.paused ? 'resume' : 'pause', context);
      lifecycle.paused = !lifecycle.paused;
      deps.probe.afterCommand(() => ({ table: 'te_transfers', transferId: lifecycle.transferId, updatedAtLeast: context.occurredAt }));
    },
  });
}

/** A new job on the client's transfer, leased with token 1: what a scheduler does before a worker reports. */
async function startJob(deps: PhaseDeps, client: Client, transferId: string): Promise<Job> {
  const key = { transferId, nodeId: `node-${client.index}-${client.jobsStarted}` };
  client.jobsStarted += 1;
  await deps.jobs.assignJob(key, 'peer', client.clock.next());
  await deps.jobs.grantLease(key, { workerId: `worker-${client.index}`, fencingToken }, client.clock.next());
  return { ...key, nextChunk: 0 };
}

/**
 * Phase 3: reportChunksVerified of 16 new chunks at a time, each client on its own job. A job
 * whose 4096 chunks are all reported is replaced by a fresh one outside the measured time.
 */
export async function runChunkProgressPhase(deps: PhaseDeps, clients: Client[], loop: ClosedLoopOptions): Promise<ClosedLoopResult> {
  await Promise.all(
    clients.map(async (client) => {
      const transferId = await createTransfer(deps, client);
      await deps.transfers.publishManifest(transferId, manifest, client.clock.next());
      client.job = await startJob(deps, client, transferId);
    }),
  );
  return runClosedLoop(loop, {
    async prepare(index) {
      const client = clientAt(clients, index);
      if (client.job!.nextChunk >= manifest.pieceCount) client.job = await startJob(deps, client, client.job!.transferId);
    },
    async operation(index) {
      const client = clientAt(clients, index);
      const job = client.job!;
      const chunkIndexes = Array.from({ length: chunksPerReport }, (_, i) => job.nextChunk + i);
      await deps.jobs.reportChunksVerified(
        { transferId: job.transferId, nodeId: job.nodeId },
        { fencingToken, source: 'origin', chunkIndexes },
        client.clock.next(),
      );
      job.nextChunk += chunksPerReport;
      const chunksAtLeast = job.nextChunk;
      deps.probe.afterCommand(() => ({ table: 'te_jobs', transferId: job.transferId, nodeId: job.nodeId, chunksAtLeast }));
    },
  });
}

/** Unmeasured commands before the first phase: pool connections opened, code paths compiled. */
export async function warmUp(deps: PhaseDeps, loop: ClosedLoopOptions): Promise<void> {
  const clients = createClients(loop.concurrency);
  await runClosedLoop(loop, {
    async operation(index) {
      await createTransfer(deps, clientAt(clients, index));
    },
  });
}
