import pg from 'pg';
import { withTimeout } from '../lib/withTimeout.ts';

/**
 * What a read-model row must show once a command's events are projected. Each condition is
 * monotonic (a later command on the same stream only keeps it true), so a probe cannot miss its
 * moment when the client's next command lands in the same projector batch.
 */
export type ProjectedExpectation =
  | { table: 'te_transfers'; transferId: string; status: string }
  | { table: 'te_transfers'; transferId: string; updatedAtLeast: string }
  | { table: 'te_jobs'; transferId: string; nodeId: string; chunksAtLeast: number };

interface Pending {
  expectation: ProjectedExpectation;
  startedAt: number;
}

interface TransferRow {
  transfer_id: string;
  status: string;
  updated_at: Date;
}

interface JobRow {
  transfer_id: string;
  node_id: string;
  chunks_verified: number;
}

/**
 * Measures projection lag as a reader sees it: from the moment a command's append resolved to
 * the first poll of the read model that shows its effect. Every `sampleEvery`th command is
 * watched; one dedicated connection polls all watched rows in one query per table, so probing
 * adds at most two small reads per poll interval, whatever the sample count.
 *
 * A sample is an upper bound, too high by at most one poll interval plus one query.
 */
export async function connectProjectionLagProbe(url: string, options: { sampleEvery: number; pollIntervalMs: number }) {
  const client = new pg.Client({ connectionString: url, application_name: 'te-bench-probe', connectionTimeoutMillis: 5000 });
  await client.connect();
  client.on('error', () => undefined); // a probe connection lost at teardown is not a result
  let commands = 0;
  let polling: Promise<void> | undefined;
  let pollError: Error | undefined;
  const pending = new Set<Pending>();
  const samplesMs: number[] = [];

  function isMet(expectation: ProjectedExpectation, transfers: Map<string, TransferRow>, jobs: Map<string, JobRow>): boolean {
    if (expectation.table === 'te_jobs') {
      const row = jobs.get(`${expectation.transferId}/${expectation.nodeId}`);
      return row !== undefined && row.chunks_verified >= expectation.chunksAtLeast;
    }
    const row = transfers.get(expectation.transferId);
    if (row === undefined) return false;
    if ('status' in expectation) return row.status === expectation.status;
    return row.updated_at.getTime() >= Date.parse(expectation.updatedAtLeast);
  }

  async function pollOnce(): Promise<void> {
    const watched = [...pending];
    const transferIds = [...new Set(watched.filter((p) => p.expectation.table === 'te_transfers').map((p) => p.expectation.transferId))];
    const jobTransferIds = [...new Set(watched.filter((p) => p.expectation.table === 'te_jobs').map((p) => p.expectation.transferId))];
    const [transferRows, jobRows] = await Promise.all([
      transferIds.length === 0
        ? []
        : client
            .query<TransferRow>('SELECT transfer_id::text, status, updated_at FROM te_transfers WHERE transfer_id = ANY($1::uuid[])', [transferIds])
            .then((result) => result.rows),
      jobTransferIds.length === 0
        ? []
        : client
            .query<JobRow>('SELECT transfer_id::text, node_id, chunks_verified FROM te_jobs WHERE transfer_id = ANY($1::uuid[])', [jobTransferIds])
            .then((result) => result.rows),
    ]);
    const seenAt = performance.now();
    const transfers = new Map(transferRows.map((row) => [row.transfer_id, row]));
    const jobs = new Map(jobRows.map((row) => [`${row.transfer_id}/${row.node_id}`, row]));
    for (const each of watched) {
      if (!isMet(each.expectation, transfers, jobs)) continue;
      pending.delete(each);
      samplesMs.push(seenAt - each.startedAt);
    }
  }

  async function pollWhilePending(): Promise<void> {
    try {
      while (pending.size > 0) {
        await pollOnce();
        if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, options.pollIntervalMs));
      }
    } catch (error) {
      pollError = error instanceof Error ? error : new Error(String(error));
      pending.clear();
    }
  }

  function startPolling(): void {
    polling ??= pollWhilePending().finally(() => {
      polling = undefined;
      if (pending.size > 0 && pollError === undefined) startPolling(); // added while the loop was ending
    });
  }

  return {
    samplesMs,
    /** Call right after each command resolved; `expect` is evaluated only for sampled commands. */
    afterCommand(expect: () => ProjectedExpectation): void {
      commands += 1;
      if (commands % options.sampleEvery !== 0) return;
      pending.add({ expectation: expect(), startedAt: performance.now() });
      startPolling();
    },
    /** Waits until every watched command is visible; throws if the probe failed or the projector stalled. */
    async drain(timeoutMs: number, signal: AbortSignal): Promise<void> {
      const giveUpAt = performance.now() + timeoutMs;
      while (polling !== undefined) {
        const left = Math.max(0, giveUpAt - performance.now());
        await withTimeout(polling, left, `projection of ${pending.size} sampled commands`, signal);
      }
      if (pollError !== undefined) throw pollError;
    },
    close: () => client.end(),
  };
}

export type ProjectionLagProbe = Awaited<ReturnType<typeof connectProjectionLagProbe>>;
