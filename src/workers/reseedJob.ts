import { setTimeout as delay } from 'node:timers/promises';
import type { JobRunnerDeps } from './jobRunner.ts';
import type { AssignedJob } from './workerApi.ts';

const ended = new Set(['completed', 'failed', 'cancelled']);

/**
 * A job this node already completed, found again after a restart while its transfer still runs:
 * seed every segment from the CAS (complete segments are not re-hashed) until the transfer ends.
 * Seeding only reads the CAS, so it needs no lease.
 */
export async function reseedCompletedJob(job: AssignedJob, deps: JobRunnerDeps, signal: AbortSignal): Promise<void> {
  const view = await deps.api.manifest(job.transferId);
  for (const segment of view.manifest?.segments ?? []) {
    if (segment === null) continue;
    await deps.engine.addSegment({ infoHash: segment.infoHash, torrentFile: await deps.api.segmentTorrent(job.transferId, segment.index), pieceSha256: segment.pieceSha256 });
  }
  try {
    while (!signal.aborted) {
      if (ended.has((await deps.api.manifest(job.transferId)).status)) return;
      await delay(1000, undefined, { signal }).catch(() => undefined);
    }
  } finally {
    for (const segment of view.manifest?.segments ?? []) if (segment !== null) await deps.engine.removeSegment(segment.infoHash);
  }
}
