import { setTimeout as delay } from 'node:timers/promises';
import { isEndedStatus } from './fetchArtifact.ts';
import type { JobRunnerDeps } from './jobRunner.ts';
import type { AssignedJob } from './workerApi.ts';

/**
 * A job this node already completed, found again after a restart while its transfer still runs:
 * seed every segment from the CAS (complete segments are not re-hashed) until the transfer ends.
 * It writes nothing, so it needs no lease. Chunks collected since (GC) make the segment partial:
 * it then seeds what is left.
 */
export async function reseedCompletedJob(job: AssignedJob, deps: JobRunnerDeps, signal: AbortSignal): Promise<void> {
  const joined: string[] = [];
  try {
    const view = await deps.api.manifest(job.transferId);
    for (const segment of view.manifest?.segments ?? []) {
      if (segment === null) continue;
      await deps.engine.addSegment({ infoHash: segment.infoHash, torrentFile: await deps.api.segmentTorrent(job.transferId, segment.index), pieceSha256: segment.pieceSha256, transferId: job.transferId });
      joined.push(segment.infoHash);
    }
    while (!signal.aborted) {
      if (isEndedStatus((await deps.api.manifest(job.transferId)).status)) return;
      await delay(1000, undefined, { signal }).catch(() => undefined);
    }
  } finally {
    for (const infoHash of joined) await deps.engine.removeSegment(infoHash);
  }
}
