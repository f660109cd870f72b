import { setTimeout as delay } from 'node:timers/promises';
import type { Config } from '../../config.ts';
import { renderProgress } from '../../demo/progressBars.ts';
import { callApi } from '../apiClient.ts';

interface WatchedTransfer {
  status: string;
  progress: number;
  bytes: { origin: number; peer: number; cas: number };
  jobs: Array<{ nodeId: string; state: string; progress: number }>;
}

const ended = new Set(['completed', 'failed', 'cancelled']);

/**
 * `torrentedge watch <transfer>`: per-node progress bars, redrawn until the transfer ends (a
 * terminal redraws in place; a pipe gets one line per change). Exits 0 when it completed.
 */
export async function runWatch(config: Config, transferId: string, options: { intervalMs?: number } = {}): Promise<number> {
  const started = Date.now();
  let last = '';
  for (;;) {
    const response = await callApi(config, 'GET', `/api/transfers/${encodeURIComponent(transferId)}`);
    if (response.status !== 200) {
      process.stderr.write(`${JSON.stringify(response.body)}\n`);
      return 1;
    }
    const transfer = response.body as WatchedTransfer;
    const seconds = (Date.now() - started) / 1000;
    if (process.stdout.isTTY) process.stdout.write(renderProgress(transfer.jobs, seconds));
    else {
      const line = `${transfer.status} ${(transfer.progress * 100).toFixed(1)}% ${transfer.jobs.map((job) => `${job.nodeId}=${(job.progress * 100).toFixed(0)}%`).join(' ')}`;
      if (line !== last) process.stdout.write(`${line}\n`);
      last = line;
    }
    if (ended.has(transfer.status)) {
      const { origin, peer, cas } = transfer.bytes;
      process.stdout.write(`transfer ${transferId} ${transfer.status}: bytes from origin ${origin}, from peers ${peer}, from the CAS ${cas}\n`);
      return transfer.status === 'completed' ? 0 : 1;
    }
    await delay(options.intervalMs ?? 500);
  }
}
