/** Events of the `job-<transferId>.<nodeId>` stream: one node's part of one transfer. */

export type ChunkSource = 'origin' | 'peer' | 'cas';

export type JobAssigned = {
  type: 'JobAssigned';
  data: { transferId: string; nodeId: string; role: 'seed' | 'peer' };
};

export type JobLeaseGranted = {
  type: 'JobLeaseGranted';
  data: { transferId: string; nodeId: string; workerId: string; fencingToken: number };
};

/** A batch of chunks that passed SHA-256 on the node; only chunks not verified before are listed. */
export type ChunksVerified = {
  type: 'ChunksVerified';
  data: {
    transferId: string;
    nodeId: string;
    fencingToken: number;
    source: ChunkSource;
    chunkIndexes: number[];
    bytes: number;
  };
};

export type JobCompleted = {
  type: 'JobCompleted';
  data: { transferId: string; nodeId: string; fencingToken: number };
};

export type JobFailed = {
  type: 'JobFailed';
  data: { transferId: string; nodeId: string; fencingToken: number; reason: string };
};

/** The lease holder is gone (expired lease, drained worker); a replacement may take over with a higher token. */
export type JobAbandoned = {
  type: 'JobAbandoned';
  data: { transferId: string; nodeId: string; fencingToken: number; reason: string };
};

export type JobEvent = JobAssigned | JobLeaseGranted | ChunksVerified | JobCompleted | JobFailed | JobAbandoned;

export const jobStreamId = (transferId: string, nodeId: string): string => `job-${transferId}.${nodeId}`;
