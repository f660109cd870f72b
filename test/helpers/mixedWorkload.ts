import { TorrentEdgeError } from '../../src/errors.ts';
import { createJobCommands } from '../../src/commands/jobCommands.ts';
import { createTransferCommands } from '../../src/commands/transferCommands.ts';
import { createNodeCommands } from '../../src/commands/nodeCommands.ts';
import type { CommandDeps } from '../../src/commands/handleCommand.ts';
import { testContext } from './commandContext.ts';

const mib = 1024 * 1024;

/**
 * Transfers through every lifecycle step, jobs on several nodes with leases, takeovers, chunk
 * batches from every source, stale-token attempts, completions and failures: a log that touches
 * every projection branch.
 */
export async function runMixedWorkload(commands: CommandDeps, options: { transfers: number; nodes: number }): Promise<{ staleRejections: number }> {
  const transfers = createTransferCommands(commands);
  const jobs = createJobCommands(commands);
  const nodes = createNodeCommands(commands);
  for (let n = 0; n < options.nodes; n++) {
    const description = { labels: { pool: 'workload', rack: `r${n % 2}` }, casVolume: '/var/lib/torrentedge/cas', capacityBytes: 2 ** 40 };
    await nodes.registerNode(`node-${n}`, description, testContext());
    await nodes.registerNode(`node-${n}`, description, testContext()); // unchanged: no event
    if (n === 0) await nodes.registerNode(`node-${n}`, { ...description, labels: { ...description.labels, zone: 'z1' } }, testContext());
  }
  // Jobs are assigned below by hand; the selector keeps the job assigner from assigning them too.
  const targets = { kind: 'selector', labels: { pool: 'assigned-by-the-test' } } as const;
  let staleRejections = 0;
  for (let t = 0; t < options.transfers; t++) {
    const created = await transfers.createTransfer({ source: { url: `https://origin.example/artifact-${t}.bin` }, autoStart: t % 3 !== 0, targets: { ...targets, labels: { ...targets.labels } } }, testContext());
    const transferId = created.result.id;
    if (t % 3 === 0) await transfers.changeLifecycle(transferId, 'start', testContext());
    const pieceCount = 6 + t;
    await transfers.publishManifest(transferId, { totalBytes: pieceCount * 4 * mib - 1000, pieceLength: 4 * mib, pieceCount }, testContext());
    for (let n = 0; n < options.nodes; n++) {
      const key = { transferId, nodeId: `node-${n}` };
      await jobs.assignJob(key, n === 0 ? 'seed' : 'peer', testContext());
      await jobs.grantLease(key, { workerId: `worker-${n}-a`, fencingToken: 1 }, testContext());
      const source = n === 0 ? 'origin' : n % 2 === 0 ? 'cas' : 'peer';
      await jobs.reportChunksVerified(key, { fencingToken: 1, source, chunkIndexes: [0, 1, 2] }, testContext());
      if (n % 2 === 1) {
        // The worker is replaced: a higher token takes over, and the old one is fenced off.
        await jobs.grantLease(key, { workerId: `worker-${n}-b`, fencingToken: 2 }, testContext());
        try {
          await jobs.reportChunksVerified(key, { fencingToken: 1, source, chunkIndexes: [3] }, testContext());
        } catch (error) {
          if (!(error instanceof TorrentEdgeError) || error.code !== 'TE_ERR_STALE_FENCING_TOKEN') throw error;
          staleRejections++;
        }
      }
      const token = n % 2 === 1 ? 2 : 1;
      const rest = Array.from({ length: pieceCount - 3 }, (_, i) => i + 3);
      await jobs.reportChunksVerified(key, { fencingToken: token, source: 'peer', chunkIndexes: [...rest, 0] }, testContext());
      if (n === options.nodes - 1 && t % 2 === 0) await jobs.failJob(key, token, 'disk full', testContext());
      else if (n === options.nodes - 2 && t % 4 === 1) await jobs.abandonJob(key, token, 'worker drained', testContext());
      else await jobs.completeJob(key, token, testContext());
    }
    if (t % 4 === 0) await transfers.changeLifecycle(transferId, 'complete', testContext());
    else if (t % 4 === 1) {
      await transfers.changeLifecycle(transferId, 'pause', testContext());
      await transfers.changeLifecycle(transferId, 'resume', testContext());
    } else if (t % 4 === 2) await transfers.changeLifecycle(transferId, 'cancel', testContext(), 'rolled back');
    else await transfers.changeLifecycle(transferId, 'fail', testContext(), 'origin unreachable');
  }
  return { staleRejections };
}
