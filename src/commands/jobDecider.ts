import type { ChunkSource, JobEvent } from '../events/jobEvents.ts';
import { ChunkBitmap } from './chunkBitmap.ts';
import { assertNever, reject, type Decider, type Decision } from './decider.ts';
import type { TransferManifest, TransferStatus } from './transferDecider.ts';

export type JobStatus = 'assigned' | 'leased' | 'completed' | 'failed' | 'abandoned';

export type JobState =
  | { status: 'none' }
  | {
      status: JobStatus;
      transferId: string;
      nodeId: string;
      role: 'seed' | 'peer';
      /** The highest fencing token ever granted for this job: effects with a lower one are stale. */
      highestFencingToken: number;
      workerId: string | null;
      verified: ChunkBitmap;
    };

/** What the job's transfer looks like when the command is decided, read by the command handler. */
export interface TransferContext {
  status: TransferStatus;
  /** What a job decision needs of the manifest: its size, to check chunk indexes and count bytes. */
  manifest: Pick<TransferManifest, 'totalBytes' | 'pieceLength' | 'pieceCount'> | null;
}

type JobKey = { transferId: string; nodeId: string };

export type JobCommand =
  | { type: 'AssignJob'; data: JobKey & { role: 'seed' | 'peer' }; transfer: TransferContext }
  | { type: 'GrantLease'; data: JobKey & { workerId: string; fencingToken: number }; transfer: TransferContext }
  | {
      type: 'ReportChunksVerified';
      data: JobKey & { fencingToken: number; source: ChunkSource; chunkIndexes: number[] };
      transfer: TransferContext;
    }
  | { type: 'CompleteJob'; data: JobKey & { fencingToken: number }; transfer: TransferContext }
  | { type: 'FailJob'; data: JobKey & { fencingToken: number; reason: string } }
  | { type: 'AbandonJob'; data: JobKey & { fencingToken: number; reason: string } };

type ActiveJob = Exclude<JobState, { status: 'none' }>;

const transferAccepting = (transfer: TransferContext): boolean =>
  transfer.status === 'requested' || transfer.status === 'running' || transfer.status === 'paused';

function transferEnded(state: ActiveJob, transfer: TransferContext): Decision<never> {
  return reject('TE_ERR_ILLEGAL_TRANSITION', `${jobName(state)}: the transfer is ${transfer.status}`);
}

function jobName({ transferId, nodeId }: JobKey): string {
  return `job ${transferId}/${nodeId}`;
}

/** Effects need the current lease: a lower token is stale, a higher one was never granted. */
function checkToken(state: ActiveJob, fencingToken: number): Decision<never> | undefined {
  if (fencingToken < state.highestFencingToken) {
    return reject(
      'TE_ERR_STALE_FENCING_TOKEN',
      `${jobName(state)}: fencing token ${fencingToken} is stale; the current lease holds ${state.highestFencingToken}`,
    );
  }
  if (state.status !== 'leased' || fencingToken > state.highestFencingToken) {
    return reject('TE_ERR_LEASE_NOT_GRANTED', `${jobName(state)}: no lease with fencing token ${fencingToken} is held (job is ${state.status})`);
  }
  return undefined;
}

function pieceBytes(manifest: NonNullable<TransferContext['manifest']>, index: number): number {
  const start = index * manifest.pieceLength;
  return Math.min(manifest.pieceLength, manifest.totalBytes - start);
}

function grantLease(command: Extract<JobCommand, { type: 'GrantLease' }>, state: ActiveJob): Decision<JobEvent> {
  const { fencingToken, workerId } = command.data;
  if (state.status === 'completed' || state.status === 'failed' || !transferAccepting(command.transfer)) {
    return reject('TE_ERR_ILLEGAL_TRANSITION', `${jobName(state)} is ${state.status}; no lease can be granted`);
  }
  if (fencingToken <= state.highestFencingToken) {
    return reject(
      'TE_ERR_STALE_FENCING_TOKEN',
      `${jobName(state)}: fencing token ${fencingToken} is not above the highest granted, ${state.highestFencingToken}`,
    );
  }
  return [{ type: 'JobLeaseGranted', data: { ...jobKey(state), workerId, fencingToken } }];
}

function reportChunks(command: Extract<JobCommand, { type: 'ReportChunksVerified' }>, state: ActiveJob): Decision<JobEvent> {
  const { fencingToken, source, chunkIndexes } = command.data;
  const tokenProblem = checkToken(state, fencingToken);
  if (tokenProblem !== undefined) return tokenProblem;
  if (!transferAccepting(command.transfer)) return transferEnded(state, command.transfer);
  const manifest = command.transfer.manifest;
  if (manifest === null) {
    return reject('TE_ERR_ILLEGAL_TRANSITION', `${jobName(state)}: chunks cannot be verified before the manifest is published`);
  }
  const outOfRange = chunkIndexes.find((index) => !Number.isInteger(index) || index < 0 || index >= manifest.pieceCount);
  if (outOfRange !== undefined) {
    return reject('TE_ERR_CHUNK_OUT_OF_RANGE', `${jobName(state)}: chunk ${outOfRange} is outside 0..${manifest.pieceCount - 1}`);
  }
  const fresh = [...new Set(chunkIndexes)].filter((index) => !state.verified.has(index)).sort((a, b) => a - b);
  if (fresh.length === 0) return []; // a repeated report: already recorded
  const bytes = fresh.reduce((sum, index) => sum + pieceBytes(manifest, index), 0);
  return [{ type: 'ChunksVerified', data: { ...jobKey(state), fencingToken, source, chunkIndexes: fresh, bytes } }];
}

function completeJob(command: Extract<JobCommand, { type: 'CompleteJob' }>, state: ActiveJob): Decision<JobEvent> {
  const tokenProblem = checkToken(state, command.data.fencingToken);
  if (tokenProblem !== undefined) return tokenProblem;
  if (!transferAccepting(command.transfer)) return transferEnded(state, command.transfer);
  const pieceCount = command.transfer.manifest?.pieceCount;
  if (pieceCount === undefined || state.verified.size < pieceCount) {
    const missing = pieceCount === undefined ? 'all' : String(pieceCount - state.verified.size);
    return reject('TE_ERR_ILLEGAL_TRANSITION', `${jobName(state)} cannot complete: ${missing} chunks are not verified`);
  }
  return [{ type: 'JobCompleted', data: { ...jobKey(state), fencingToken: command.data.fencingToken } }];
}

function endLease(
  command: Extract<JobCommand, { type: 'FailJob' | 'AbandonJob' }>,
  state: ActiveJob,
): Decision<JobEvent> {
  const tokenProblem = checkToken(state, command.data.fencingToken);
  if (tokenProblem !== undefined) return tokenProblem;
  const data = { ...jobKey(state), fencingToken: command.data.fencingToken, reason: command.data.reason };
  return [command.type === 'FailJob' ? { type: 'JobFailed', data } : { type: 'JobAbandoned', data }];
}

function jobKey(state: ActiveJob): JobKey {
  return { transferId: state.transferId, nodeId: state.nodeId };
}

export function decideJob(command: JobCommand, state: JobState): Decision<JobEvent> {
  if (command.type === 'AssignJob') {
    if (state.status !== 'none') return reject('TE_ERR_JOB_EXISTS', `${jobName(command.data)} is already assigned`);
    if (!transferAccepting(command.transfer)) {
      return reject('TE_ERR_ILLEGAL_TRANSITION', `cannot assign ${jobName(command.data)}: the transfer is ${command.transfer.status}`);
    }
    return [{ type: 'JobAssigned', data: command.data }];
  }
  if (state.status === 'none') return reject('TE_ERR_JOB_NOT_FOUND', `${jobName(command.data)} does not exist`);
  switch (command.type) {
    case 'GrantLease':
      return grantLease(command, state);
    case 'ReportChunksVerified':
      return reportChunks(command, state);
    case 'CompleteJob':
      return completeJob(command, state);
    case 'FailJob':
    case 'AbandonJob':
      return endLease(command, state);
    default:
      return assertNever(command);
  }
}

export function evolveJob(state: JobState, event: JobEvent): JobState {
  if (event.type === 'JobAssigned') {
    const { transferId, nodeId, role } = event.data;
    return { status: 'assigned', transferId, nodeId, role, highestFencingToken: 0, workerId: null, verified: ChunkBitmap.empty };
  }
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'JobLeaseGranted':
      return { ...state, status: 'leased', workerId: event.data.workerId, highestFencingToken: event.data.fencingToken };
    case 'ChunksVerified':
      return { ...state, verified: state.verified.with(event.data.chunkIndexes) };
    case 'JobCompleted':
      return { ...state, status: 'completed' };
    case 'JobFailed':
      return { ...state, status: 'failed' };
    case 'JobAbandoned':
      return { ...state, status: 'abandoned', workerId: null };
    default:
      return assertNever(event);
  }
}

export const jobDecider: Decider<JobCommand, JobState, JobEvent> = {
  decide: decideJob,
  evolve: evolveJob,
  initialState: () => ({ status: 'none' }),
};
