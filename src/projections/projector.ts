import type { Logger } from 'pino';
import { toDomainEvents } from '../events/toDomainEvents.ts';
import type { EventLog, LogCheckpoint, RecordedEvent, Subscription } from '../events/eventLog.ts';
import type { SqlDatabase } from '../infra/postgres/sqlDatabase.ts';
import { ensureCheckpoint } from './checkpoints.ts';
import type { Projection, ProjectedEvent } from './projection.ts';

export interface ProjectorDeps {
  db: SqlDatabase;
  eventLog: EventLog;
  logger: Logger;
  /** After each committed batch: feeds projection lag metrics and, later, GraphQL subscriptions. */
  onCommit?: (projection: string, events: readonly RecordedEvent[]) => void;
}

export type ProjectorState = { status: 'idle' } | { status: 'running'; subscriptions: Subscription[] } | { status: 'stopped' };

export function toProjectedEvents(events: readonly RecordedEvent[]): ProjectedEvent[] {
  const domain = toDomainEvents(events);
  return domain.map((event, i) => ({ ...event, metadata: events[i]!.metadata, globalPosition: events[i]!.globalPosition }));
}

/**
 * Applies one batch and moves the checkpoint in one transaction, but only if the stored
 * checkpoint is still the one the batch follows. When it moved (a replay reset it, or another
 * projector replica got there first), nothing is applied and the caller resumes from the stored one.
 */
export async function applyBatch(
  db: SqlDatabase,
  projection: Projection,
  after: LogCheckpoint,
  events: readonly RecordedEvent[],
): Promise<{ applied: true } | { applied: false; storedCheckpoint: LogCheckpoint }> {
  const last = events[events.length - 1];
  if (last === undefined) return { applied: true };
  const projected = toProjectedEvents(events);
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ checkpoint: string }>(
      'SELECT checkpoint FROM te_projection_checkpoints WHERE projection = $1 FOR UPDATE',
      [projection.name],
    );
    const stored = rows[0]?.checkpoint as LogCheckpoint | undefined;
    if (stored === undefined) throw new Error(`projection ${projection.name} has no checkpoint row`);
    if (stored !== after) return { applied: false, storedCheckpoint: stored };
    await projection.applyBatch(tx, projected);
    await tx.query('UPDATE te_projection_checkpoints SET checkpoint = $2, updated_at = now() WHERE projection = $1', [
      projection.name,
      last.checkpoint,
    ]);
    return { applied: true };
  });
}

/** Follows the log and keeps every read model current: one catch-up subscription per projection. */
export function createProjector(deps: ProjectorDeps, options: { projections: readonly Projection[]; batchSize?: number }) {
  let state: ProjectorState = { status: 'idle' };
  let highestProjected = 0;
  const waiters = new Set<{ position: number; resolve: () => void }>();
  const highestByProjection = new Map<string, number>();

  function noteProgress(projection: string, events: readonly RecordedEvent[]): void {
    const top = Math.max(highestByProjection.get(projection) ?? 0, ...events.map((event) => event.globalPosition));
    highestByProjection.set(projection, top);
    highestProjected = Math.min(...options.projections.map((each) => highestByProjection.get(each.name) ?? 0));
    for (const waiter of waiters) {
      if (highestProjected >= waiter.position) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  async function follow(projection: Projection): Promise<Subscription> {
    let checkpoint = await ensureCheckpoint(deps.db, projection.name, deps.eventLog.start);
    return deps.eventLog.subscribe(
      { after: checkpoint, batchSize: options.batchSize ?? 500 },
      {
        onEvents: async (events) => {
          const outcome = await applyBatch(deps.db, projection, checkpoint, events);
          if (!outcome.applied) {
            deps.logger.info({ projection: projection.name }, 'projection checkpoint moved elsewhere; resuming from it');
            checkpoint = outcome.storedCheckpoint;
            return { resumeAfter: checkpoint };
          }
          checkpoint = events[events.length - 1]!.checkpoint;
          noteProgress(projection.name, events);
          deps.onCommit?.(projection.name, events);
          return undefined;
        },
        onError: (error) => deps.logger.error({ err: error, projection: projection.name }, 'projection batch failed; retrying'),
      },
    );
  }

  return {
    get state(): ProjectorState['status'] {
      return state.status;
    },
    async start(): Promise<void> {
      if (state.status !== 'idle') throw new Error(`projector cannot start: it is ${state.status}`);
      const subscriptions = await Promise.all(options.projections.map(follow));
      state = { status: 'running', subscriptions };
    },
    async stop(): Promise<void> {
      if (state.status !== 'running') {
        state = { status: 'stopped' };
        return;
      }
      const { subscriptions } = state;
      state = { status: 'stopped' };
      await Promise.all(subscriptions.map((subscription) => subscription.stop()));
    },
    /** Resolves once every projection has committed the event at `position` (positions of sequential appends). */
    waitForPosition(position: number, timeoutMs = 10_000): Promise<void> {
      if (highestProjected >= position) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const waiter = {
          position,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`projections did not reach position ${position} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
  };
}

export type Projector = ReturnType<typeof createProjector>;
