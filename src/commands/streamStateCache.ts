import { LRUCache } from 'lru-cache';
import type { EventLog } from '../events/eventLog.ts';
import { fold } from './decider.ts';
import { toDomainEvents } from '../events/toDomainEvents.ts';
import type { DomainEvent } from '../events/catalogue.ts';

export interface StreamState<S> {
  /** The revision `state` was folded up to; -1 for a stream that does not exist. */
  revision: number;
  state: S;
  /** When this state was last known to be the log's (read, or appended by us); ms since the epoch. */
  confirmedAt: number;
}

/**
 * Folded stream states, most recently used first. Events never change, so a cached state is
 * never wrong, only possibly behind: readers fold in the events after its revision, and an
 * append from a state that is behind fails on its expected revision and is retried.
 * Measured: without it every command re-read and re-folded its whole stream, which made a long
 * job stream's commands cost more with every chunk batch (`npm run bench -- control-plane`).
 */
export type StreamStateCache = LRUCache<string, StreamState<unknown>>;

export function createStreamStateCache(maxStreams = 20_000): StreamStateCache {
  return new LRUCache<string, StreamState<unknown>>({ max: maxStreams });
}

/**
 * Caches `loaded` unless a newer revision is cached already. A read that began before an append
 * can finish after the command cached the appended state; storing the read then put the older
 * state back, and a reader within maxStalenessMs saw the stream without the event just appended
 * (bench fleet: a seed's GET of the segment it had just published was a 404).
 */
export function rememberStreamState<S>(cache: StreamStateCache | undefined, streamId: string, loaded: StreamState<S>): void {
  const known = cache?.get(streamId);
  if (known !== undefined && known.revision > loaded.revision) return;
  cache?.set(streamId, known !== undefined && known.revision === loaded.revision ? { ...loaded, confirmedAt: Math.max(known.confirmedAt, loaded.confirmedAt) } : loaded);
}

/**
 * The stream's current state: the cached one with any newer events folded in, or a full read.
 * With `maxStalenessMs`, a cached state confirmed that recently is returned without a read: for
 * context that a command only consults (a job command reading its transfer), where a decision on
 * a state that is at most that old is acceptable.
 */
export async function loadStreamState<S, E extends DomainEvent>(
  eventLog: EventLog,
  cache: StreamStateCache | undefined,
  evolver: { evolve(state: S, event: E): S; initialState(): S },
  streamId: string,
  options: { maxStalenessMs?: number } = {},
): Promise<StreamState<S>> {
  const known = cache?.get(streamId) as StreamState<S> | undefined;
  const now = Date.now();
  if (known !== undefined && options.maxStalenessMs !== undefined && now - known.confirmedAt <= options.maxStalenessMs) return known;
  const fromRevision = known === undefined ? 0 : known.revision + 1;
  const { revision, events } = await eventLog.readStream(streamId, { fromRevision });
  const newer = toDomainEvents(events) as E[];
  const state = known === undefined ? fold(evolver, newer) : newer.reduce((current, event) => evolver.evolve(current, event), known.state);
  const loaded = { revision, state, confirmedAt: now };
  rememberStreamState(cache, streamId, loaded);
  return loaded;
}
