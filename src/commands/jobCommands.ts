import { TorrentEdgeError } from '../errors.ts';
import type { ChunkSource } from '../events/jobEvents.ts';
import { jobStreamId } from '../events/jobEvents.ts';
import type { CommandContext } from '../events/metadata.ts';
import { transferStreamId } from '../events/transferEvents.ts';
import { fingerprintOf, handleCommand, type CommandDeps } from './handleCommand.ts';
import { loadStreamState } from './streamStateCache.ts';
import { jobDecider, type JobCommand, type JobState, type TransferContext } from './jobDecider.ts';
import { transferDecider, type TransferState } from './transferDecider.ts';
import type { TransferEvent } from '../events/transferEvents.ts';
import type { JobEvent } from '../events/jobEvents.ts';

export interface JobCommandResult {
  transferId: string;
  nodeId: string;
  status: string;
  highestFencingToken: number;
  chunksVerified: number;
  requestId: string;
}

type JobKey = { transferId: string; nodeId: string };

// How old a cached transfer state a job command may decide on. Workers report about once a
// second per job, so a pause or cancel made through another api replica is seen within a report or two.
const transferContextStalenessMs = 1000;

/**
 * The job commands. Job and transfer are separate streams; the transfer's status and manifest
 * are read first (from the cache when it is at most a second old) and handed to the job decider as
 * context. A transfer that changes between that read and the job append is caught on a later
 * command, which is the granularity workers report at anyway (about once a second).
 */
export function createJobCommands(deps: CommandDeps) {
  async function transferContext(transferId: string): Promise<TransferContext> {
    const { state } = await loadStreamState<TransferState, TransferEvent>(deps.eventLog, deps.cache, transferDecider, transferStreamId(transferId), {
      maxStalenessMs: transferContextStalenessMs,
    });
    if (state.status === 'none') {
      throw new TorrentEdgeError('TE_ERR_TRANSFER_NOT_FOUND', `transfer ${transferId} does not exist`);
    }
    return { status: state.status, manifest: state.manifest };
  }

  const run = (key: JobKey, command: JobCommand, context: CommandContext) =>
    handleCommand(
      deps,
      jobDecider,
      jobStreamId(key.transferId, key.nodeId),
      command,
      // The transfer context is derived, not stated: it stays out of the fingerprint.
      { ...context, fingerprint: fingerprintOf({ type: command.type, data: command.data }) },
      (state: JobState): JobCommandResult => {
        if (state.status === 'none') throw new Error('a job command left no job');
        return {
          transferId: state.transferId,
          nodeId: state.nodeId,
          status: state.status,
          highestFencingToken: state.highestFencingToken,
          chunksVerified: state.verified.size,
          requestId: context.requestId,
        };
      },
    );

  return {
    /** The job as its stream says now (for checks such as "does this node seed the transfer"). */
    async currentJob(key: JobKey): Promise<JobState> {
      return (await loadStreamState<JobState, JobEvent>(deps.eventLog, deps.cache, jobDecider, jobStreamId(key.transferId, key.nodeId))).state;
    },
    async assignJob(key: JobKey, role: 'seed' | 'peer', context: CommandContext) {
      const transfer = await transferContext(key.transferId);
      return run(key, { type: 'AssignJob', data: { ...key, role }, transfer }, context);
    },
    async grantLease(key: JobKey, lease: { workerId: string; fencingToken: number }, context: CommandContext) {
      const transfer = await transferContext(key.transferId);
      return run(key, { type: 'GrantLease', data: { ...key, ...lease }, transfer }, context);
    },
    async reportChunksVerified(
      key: JobKey,
      report: { fencingToken: number; source: ChunkSource; chunkIndexes: number[] },
      context: CommandContext,
    ) {
      const transfer = await transferContext(key.transferId);
      return run(key, { type: 'ReportChunksVerified', data: { ...key, ...report }, transfer }, context);
    },
    async completeJob(key: JobKey, fencingToken: number, context: CommandContext) {
      const transfer = await transferContext(key.transferId);
      return run(key, { type: 'CompleteJob', data: { ...key, fencingToken }, transfer }, context);
    },
    async failJob(key: JobKey, fencingToken: number, reason: string, context: CommandContext) {
      return run(key, { type: 'FailJob', data: { ...key, fencingToken, reason } }, context);
    },
    async abandonJob(key: JobKey, fencingToken: number, reason: string, context: CommandContext) {
      return run(key, { type: 'AbandonJob', data: { ...key, fencingToken, reason } }, context);
    },
  };
}

export type JobCommands = ReturnType<typeof createJobCommands>;
