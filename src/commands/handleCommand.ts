import { createHash, randomUUID } from 'node:crypto';
import stringify from 'safe-stable-stringify';
import { idempotencyMismatch, RevisionConflictError, TorrentEdgeError } from '../errors.ts';
import { schemaVersionOf, type DomainEvent } from '../events/catalogue.ts';
import type { EventLog, NewEvent } from '../events/eventLog.ts';
import type { CommandContext } from '../events/metadata.ts';
import type { Context } from '@opentelemetry/api';
import { contextFrom, inSpan, SpanKind, traceHeadersOf } from '../observability/tracing.ts';
import { isRejection, type Decider } from './decider.ts';
import { loadStreamState, rememberStreamState, type StreamState, type StreamStateCache } from './streamStateCache.ts';

export interface CommandDeps {
  eventLog: EventLog;
  newId?: () => string;
  /** Called once per handled command with its outcome (and the rejection code); feeds the commands metric. */
  observe?: (commandType: string, outcome: CommandOutcome, code?: string) => void;
  /** Called with the events of each successful append. */
  onAppended?: (events: readonly DomainEvent[]) => void;
  /** Folded stream states kept between commands; without it every command reads its whole stream. */
  cache?: StreamStateCache;
}

export type CommandOutcome = 'appended' | 'unchanged' | 'duplicate' | 'rejected' | 'conflict' | 'error';

export interface CommandResult<S, R> {
  state: S;
  result: R;
  /** Events appended by this call; empty for a duplicate or a no-op. */
  appended: DomainEvent[];
  duplicate: boolean;
}

/** The command as the caller stated it, hashed for idempotency: the same request id must carry the same intent. */
export function fingerprintOf(intent: unknown): string {
  return createHash('sha256').update(stringify(intent) ?? '').digest('hex');
}

const maxAttempts = 8;

/**
 * Read the stream, fold it, decide, append at the revision that was read. Only a revision
 * conflict is retried (another command appended in between); rejections and errors surface.
 */
export function handleCommand<C extends { type: string }, S, E extends DomainEvent, R>(
  deps: CommandDeps,
  decider: Decider<C, S, E>,
  streamId: string,
  command: C,
  context: CommandContext & { fingerprint: string },
  toResult: (state: S) => R,
  options: { newStream?: boolean } = {},
): Promise<CommandResult<S, R>> {
  const attributes = { 'torrentedge.stream_id': streamId, 'torrentedge.request_id': context.requestId };
  return inSpan(`command ${command.type}`, { parent: contextFrom(context), attributes }, (_span, traceContext) =>
    runCommand(deps, decider, streamId, command, context, toResult, options, traceContext),
  );
}

async function runCommand<C extends { type: string }, S, E extends DomainEvent, R>(
  deps: CommandDeps,
  decider: Decider<C, S, E>,
  streamId: string,
  command: C,
  context: CommandContext & { fingerprint: string },
  toResult: (state: S) => R,
  options: { newStream?: boolean },
  traceContext: Context,
): Promise<CommandResult<S, R>> {
  const observe = (outcome: CommandOutcome, code?: string) => deps.observe?.(command.type, outcome, code);
  const newId = deps.newId ?? randomUUID;
  try {
    // With a cache, the first attempt decides on the cached state without reading: if it is
    // behind, the append fails on its expected revision and the next attempt catches up.
    // A stream whose id was just generated cannot exist yet: no read (the append still checks).
    let known = options.newStream
      ? { revision: -1, state: decider.initialState(), confirmedAt: 0 }
      : (deps.cache?.get(streamId) as StreamState<S> | undefined);
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const readNow = known === undefined || attempt > 1;
      if (readNow) known = await loadStreamState(deps.eventLog, deps.cache, decider, streamId);
      const { state, revision } = known!;
      const decision = decider.decide(command, state);
      // A refusal or a no-op has no append to prove the cached state current: decide again on a read one.
      if ((isRejection(decision) || decision.length === 0) && !readNow) continue;
      if (isRejection(decision)) {
        // A retry of a command that succeeded before may be illegal now; the stored answer wins.
        const earlier = await answerFromIdempotencyKey(deps.eventLog, context);
        if (earlier !== undefined) {
          observe('duplicate');
          return { state, result: earlier as R, appended: [], duplicate: true };
        }
        observe('rejected', decision.code);
        throw new TorrentEdgeError(decision.code, decision.message);
      }
      const next = decision.reduce((current, event) => decider.evolve(current, event), state);
      const result = toResult(next);
      if (decision.length === 0) {
        observe('unchanged');
        return { state: next, result, appended: [], duplicate: false };
      }
      try {
        // The events carry the append span's context: whatever follows them continues this trace.
        const appended = await inSpan(`append ${streamId}`, { parent: traceContext, kind: SpanKind.CLIENT }, (_span, appendContext) => {
          const trace = traceHeadersOf(appendContext);
          const events: NewEvent[] = decision.map((event) => ({
            type: event.type,
            data: event.data,
            metadata: { ...withoutFingerprint(context), ...trace, eventId: newId(), schemaVersion: schemaVersionOf(event.type) },
          }));
          return deps.eventLog.appendToStream(streamId, events, {
            expectedRevision: revision === -1 ? 'no_stream' : revision,
            idempotency: { requestId: idempotencyKeyOf(context), fingerprint: context.fingerprint, result },
          });
        });
        if (appended.outcome === 'duplicate') {
          observe('duplicate');
          return { state: next, result: appended.result as R, appended: [], duplicate: true };
        }
        rememberStreamState(deps.cache, streamId, { revision: appended.streamRevision, state: next, confirmedAt: Date.now() });
        observe('appended');
        deps.onAppended?.(decision);
        return { state: next, result, appended: decision, duplicate: false };
      } catch (error) {
        if (error instanceof RevisionConflictError && attempt < maxAttempts) continue;
        // The store names the key it refused; the caller knows its request id.
        if (error instanceof TorrentEdgeError && error.code === 'TE_ERR_IDEMPOTENCY_MISMATCH') throw idempotencyMismatch(context.requestId);
        throw error;
      }
    }
    throw new Error('unreachable: the loop returns or throws');
  } catch (error) {
    if (error instanceof RevisionConflictError) {
      observe('conflict');
      throw new TorrentEdgeError('TE_ERR_CONCURRENCY', `stream ${streamId} kept changing; retry the request`);
    }
    if (!(error instanceof TorrentEdgeError)) observe('error');
    else if (error.code === 'TE_ERR_IDEMPOTENCY_MISMATCH') observe('rejected', error.code);
    throw error;
  }
}

async function answerFromIdempotencyKey(
  eventLog: EventLog,
  context: { requestId: string; actor: string; fingerprint: string },
): Promise<unknown> {
  const stored = await eventLog.readIdempotencyKey(idempotencyKeyOf(context));
  if (stored === undefined) return undefined;
  if (stored.fingerprint !== context.fingerprint) throw idempotencyMismatch(context.requestId);
  return stored.result;
}

/**
 * Request ids are the caller's; the key they claim is per caller (token subject). Otherwise one
 * principal could spend another's predictable ids (a worker's `chunks:<transfer>:<node>:…`) and
 * have that principal's commands refused as mismatches.
 */
export function idempotencyKeyOf(context: { requestId: string; actor: string }): string {
  return `${context.actor} ${context.requestId}`;
}

function withoutFingerprint(context: CommandContext & { fingerprint: string }): CommandContext {
  const { fingerprint: _fingerprint, ...metadata } = context;
  return metadata;
}
