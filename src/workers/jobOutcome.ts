import { TorrentEdgeError } from '../errors.ts';
import { TransferEndedError } from './fetchArtifact.ts';
import { ApiError, ApiUnavailableError } from './workerApi.ts';

/** Why a job stopped before its end; decides what the worker tells the api. */
export type JobStop = 'ended' | 'drained' | 'fenced' | 'unavailable' | 'failed';

export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

/**
 * - ended: the transfer was cancelled, failed or completed meanwhile; nothing to report.
 * - drained: the worker stops; the job is abandoned so a replacement takes it at once.
 * - fenced: a newer lease owns the job (or the lease is gone); this worker must not write.
 * - unavailable: the api could not be reached; nothing was decided, the job is picked up again.
 * - failed: anything else (the origin, a digest, a destination refused): the job fails, visibly.
 */
export function classifyJobStop(error: unknown, drained: boolean): JobStop {
  if (error instanceof TransferEndedError) return 'ended';
  if (drained) return 'drained';
  if (error instanceof LeaseLostError) return 'fenced';
  if (error instanceof ApiError && ['TE_ERR_STALE_FENCING_TOKEN', 'TE_ERR_LEASE_NOT_GRANTED', 'TE_ERR_IDEMPOTENCY_MISMATCH'].includes(error.code)) return 'fenced';
  if (error instanceof TorrentEdgeError && error.code === 'TE_ERR_STALE_FENCING_TOKEN') return 'fenced';
  if (error instanceof ApiUnavailableError) return 'unavailable';
  return 'failed';
}
