import type { Logger } from 'pino';
import { TorrentEdgeError } from '../errors.ts';
import type { JobCommands } from '../commands/jobCommands.ts';
import type { TransferCommands } from '../commands/transferCommands.ts';
import { jobStreamId } from '../events/jobEvents.ts';
import type { EventLog, LogCheckpoint, RecordedEvent, Subscription } from '../events/eventLog.ts';
import type { TransferRequested } from '../events/transferEvents.ts';
import { transferStreamId } from '../events/transferEvents.ts';
import type { SqlDatabase } from '../infra/postgres/sqlDatabase.ts';
import { advanceCheckpoint, ensureCheckpoint } from '../projections/checkpoints.ts';
import type { NodeQueries } from '../projections/queries/nodeQueries.ts';
import { contextFrom, inSpan, traceHeadersOf } from '../observability/tracing.ts';

export const assignerCheckpointName = 'process:job-assigner';
const assignerActor = 'job-assigner';

export interface JobAssignerDeps {
  db: SqlDatabase;
  eventLog: EventLog;
  jobs: JobCommands;
  transfers: TransferCommands;
  nodes: NodeQueries;
  logger: Logger;
  /**
   * Resolves once the read models hold every event up to `position`. Targets are resolved
   * against the nodes read model and late nodes against the transfers read model; without this
   * wait a node registered just before a start (or a start just before a registration) could be
   * missed by both.
   */
  waitForReadModels?: (position: number) => Promise<void>;
}

/**
 * Runs the rollout's process. When a transfer starts, assigns one job per target node: every registered node, a list, or a
 * label selector, resolved against the nodes read model. The first node (by id) seeds from the
 * origin (for a push, the node that holds the path); the others fetch from peers. Each assignment carries a request id derived from the
 * transfer and node, so re-running a batch after a crash is a no-op; the checkpoint moves after
 * the batch, by compare-and-set. When the last job completes, it completes the transfer; when the
 * seed fails, it fails it.
 */
export function createJobAssigner(deps: JobAssignerDeps) {
  let subscription: Subscription | undefined;
  let checkpoint: LogCheckpoint | undefined;

  async function assign(started: RecordedEvent): Promise<void> {
    const transferId = (started.data as { transferId: string }).transferId;
    const { events } = await deps.eventLog.readStream(transferStreamId(transferId));
    const requested = events.find((event) => event.type === 'TransferRequested')?.data as TransferRequested['data'] | undefined;
    if (requested === undefined) return;
    await inSpan('assign jobs', { parent: contextFrom(started.metadata), attributes: { 'torrentedge.transfer_id': transferId } }, async (span, ctx) => {
      const targets = await deps.nodes.resolveTargets(requested.targets);
      // A pushed artifact is seeded by the node that holds it, whether or not it is a target.
      const seed = requested.source.kind === 'push' ? requested.source.nodeId : targets[0];
      const nodeIds = seed === undefined ? [] : [seed, ...targets.filter((nodeId) => nodeId !== seed)];
      span.setAttribute('torrentedge.nodes', nodeIds.length);
      if (nodeIds.length === 0) deps.logger.warn({ transferId, targets: requested.targets }, 'a started transfer matches no node');
      for (const [index, nodeId] of nodeIds.entries()) {
        try {
          await deps.jobs.assignJob({ transferId, nodeId }, index === 0 ? 'seed' : 'peer', {
            requestId: `assign:${transferId}:${nodeId}`,
            actor: assignerActor,
            occurredAt: new Date().toISOString(),
            ...traceHeadersOf(ctx),
          });
        } catch (error) {
          // The transfer ended before its jobs were assigned, or the job exists: nothing to do.
          if (error instanceof TorrentEdgeError && (error.code === 'TE_ERR_ILLEGAL_TRANSITION' || error.code === 'TE_ERR_JOB_EXISTS')) continue;
          throw error;
        }
      }
    });
  }

  function matches(targets: TransferRequested['data']['targets'], node: { nodeId: string; labels: Record<string, string> }): boolean {
    if (targets.kind === 'all') return true;
    if (targets.kind === 'nodes') return targets.nodeIds.includes(node.nodeId);
    return Object.entries(targets.labels).every(([key, value]) => node.labels[key] === value);
  }

  /** A node that joins (or is relabelled into a selector) while transfers run gets its jobs in them too. */
  async function assignLateNode(event: RecordedEvent): Promise<void> {
    const node = event.data as { nodeId: string; labels: Record<string, string> };
    for (const transferId of await deps.nodes.activeTransferIds()) {
      const { events } = await deps.eventLog.readStream(transferStreamId(transferId));
      const requested = events.find((candidate) => candidate.type === 'TransferRequested')?.data as TransferRequested['data'] | undefined;
      if (requested === undefined || !events.some((candidate) => candidate.type === 'TransferStarted') || !matches(requested.targets, node)) continue;
      try {
        // The same request id as an assignment at start: whichever comes second is a no-op.
        await deps.jobs.assignJob({ transferId, nodeId: node.nodeId }, 'peer', {
          requestId: `assign:${transferId}:${node.nodeId}`,
          actor: assignerActor,
          occurredAt: new Date().toISOString(),
          ...traceHeadersOf(contextFrom(event.metadata)),
        });
      } catch (error) {
        if (error instanceof TorrentEdgeError && (error.code === 'TE_ERR_ILLEGAL_TRANSITION' || error.code === 'TE_ERR_JOB_EXISTS')) continue;
        throw error;
      }
    }
  }

  /**
   * Only the seed reads the origin: when its job fails (the origin refused, a digest mismatch),
   * no peer can finish, so the transfer fails with the seed's reason rather than waiting forever.
   */
  async function failIfSeedFailed(failed: RecordedEvent): Promise<void> {
    const { transferId, nodeId, reason } = failed.data as { transferId: string; nodeId: string; reason: string };
    const { events } = await deps.eventLog.readStream(jobStreamId(transferId, nodeId));
    const assigned = events.find((event) => event.type === 'JobAssigned')?.data as { role: string } | undefined;
    if (assigned?.role !== 'seed') return;
    try {
      await deps.transfers.changeLifecycle(
        transferId,
        'fail',
        { requestId: `fail:${transferId}`, actor: assignerActor, occurredAt: new Date().toISOString(), ...traceHeadersOf(contextFrom(failed.metadata)) },
        `the seed on ${nodeId} failed: ${reason}`.slice(0, 1000),
      );
    } catch (error) {
      if (error instanceof TorrentEdgeError && error.code === 'TE_ERR_ILLEGAL_TRANSITION') return;
      throw error;
    }
  }

  /** The rollout is done when every job is: the last JobCompleted completes the transfer. */
  async function completeIfAllJobsDone(completed: RecordedEvent): Promise<void> {
    const transferId = (completed.data as { transferId: string }).transferId;
    const events = await deps.eventLog.readStreamsWithPrefix([jobStreamId(transferId, '')]);
    const states = new Map<string, string>();
    let assignedHere = false;
    for (const event of events) {
      if (event.type === 'JobAssigned' || event.type === 'JobCompleted') states.set(event.streamId, event.type);
      if (event.type === 'JobAssigned' && event.metadata.actor === assignerActor) assignedHere = true;
    }
    // Only rollouts this process assigned: jobs assigned by hand may still be coming.
    if (!assignedHere || [...states.values()].some((type) => type !== 'JobCompleted')) return;
    try {
      await deps.transfers.changeLifecycle(transferId, 'complete', {
        requestId: `complete:${transferId}`,
        actor: assignerActor,
        occurredAt: new Date().toISOString(),
        ...traceHeadersOf(contextFrom(completed.metadata)),
      });
    } catch (error) {
      // Already completed, or paused/cancelled meanwhile: the operator's word stands.
      if (error instanceof TorrentEdgeError && error.code === 'TE_ERR_ILLEGAL_TRANSITION') return;
      throw error;
    }
  }

  return {
    async start(): Promise<void> {
      checkpoint = await ensureCheckpoint(deps.db, assignerCheckpointName, deps.eventLog.start);
      subscription = deps.eventLog.subscribe(
        { after: checkpoint, batchSize: 100 },
        {
          onEvents: async (events) => {
            // Only the first start assigns: a resumed transfer keeps its jobs.
            for (const event of events) {
              if (event.type === 'TransferStarted' || event.type === 'NodeRegistered' || event.type === 'NodeDescriptionChanged') {
                await deps.waitForReadModels?.(event.globalPosition);
              }
              if (event.type === 'TransferStarted') await assign(event);
              else if (event.type === 'NodeRegistered' || event.type === 'NodeDescriptionChanged') await assignLateNode(event);
              else if (event.type === 'JobCompleted') await completeIfAllJobsDone(event);
              else if (event.type === 'JobFailed') await failIfSeedFailed(event);
            }
            const last = events[events.length - 1]!.checkpoint;
            const moved = await advanceCheckpoint(deps.db, assignerCheckpointName, checkpoint!, last, deps.eventLog.start);
            if (moved !== undefined) {
              checkpoint = moved;
              return { resumeAfter: moved };
            }
            checkpoint = last;
            return undefined;
          },
          onError: (error) => deps.logger.error({ err: error }, 'job assignment failed; retrying'),
        },
      );
    },
    async stop(): Promise<void> {
      await subscription?.stop();
    },
  };
}

export type JobAssigner = ReturnType<typeof createJobAssigner>;
