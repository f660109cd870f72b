import type { EventLog, SubscribeOptions } from '../../../events/eventLog.ts';
import { startCatchUpSubscription, type CatchUpOptions } from '../../catchUpSubscription.ts';
import type { SqlDatabase } from '../sqlDatabase.ts';
import { createAppendNotifier } from './appendNotifier.ts';
import { createAppendBatcher } from './appendBatcher.ts';
import { readAllEvents, readAllStoredEvents } from './readAllEvents.ts';
import { encodeCheckpoint } from './recordedEventRow.ts';
import { readStream, readStreamsWithPrefix } from './readStream.ts';

export const eventsChannel = 'te_events';

/** The event log on PostgreSQL or PGlite (same SQL, same migrations). */
export function createPgEventLog(
  db: SqlDatabase,
  options: { safetyPollMs?: number; onNotifyError?: (error: unknown) => void; maxAppendsInFlight?: number } = {},
): EventLog {
  const start = encodeCheckpoint('0', 0);
  const listeners = new Set<(position: number | undefined) => void>();
  const wakeLocal = (position: number | undefined) => {
    for (const each of listeners) each(position);
  };
  const notifier = createAppendNotifier(db, eventsChannel, options.onNotifyError ?? (() => undefined));
  const batcher = createAppendBatcher(db, { maxInFlight: options.maxAppendsInFlight ?? 4, maxBatch: 50 });
  let sharedListen: Promise<() => Promise<void>> | undefined;

  // One LISTEN connection per log, fanned out to every subscription in this process.
  async function onAppend(listener: (position: number | undefined) => void): Promise<() => Promise<void>> {
    listeners.add(listener);
    sharedListen ??= db.listen(eventsChannel, (payload) => {
      const position = payload === '' ? Number.NaN : Number(payload);
      wakeLocal(Number.isFinite(position) ? position : undefined);
    });
    try {
      await sharedListen;
    } catch (error) {
      listeners.delete(listener);
      sharedListen = undefined;
      throw error;
    }
    return async () => {
      listeners.delete(listener);
      if (listeners.size === 0 && sharedListen !== undefined) {
        const stop = await sharedListen;
        sharedListen = undefined;
        await stop();
      }
    };
  }

  const catchUpOptions = ({ after, batchSize, readAhead }: SubscribeOptions): CatchUpOptions => ({
    after: after ?? start,
    batchSize: batchSize ?? 500,
    safetyPollMs: options.safetyPollMs ?? 1000,
    readAhead: readAhead ?? false,
  });

  return {
    start,
    async appendToStream(streamId, events, appendOptions) {
      const result = await batcher.append({ streamId, events, ...appendOptions });
      if (result.outcome === 'appended') {
        wakeLocal(result.lastPosition); // subscribers in this process, without a round trip
        notifier.notify(result.lastPosition); // and in every other process
      }
      return result;
    },
    readStream: (streamId, readOptions) => readStream(db, streamId, readOptions?.fromRevision),
    readStreamsWithPrefix: (prefixes) => readStreamsWithPrefix(db, prefixes),
    readAll: ({ after, limit }) => readAllEvents(db, after ?? start, limit),
    readAllStored: ({ after, limit }) => readAllStoredEvents(db, after ?? start, limit),
    subscribe: (subscribeOptions, handlers) => startCatchUpSubscription({ readAll: (from, limit) => readAllEvents(db, from, limit), onAppend }, catchUpOptions(subscribeOptions), handlers),
    subscribeStored: (subscribeOptions, handlers) =>
      startCatchUpSubscription({ readAll: (from, limit) => readAllStoredEvents(db, from, limit), onAppend }, catchUpOptions(subscribeOptions), handlers),
    async readIdempotencyKey(requestId) {
      const { rows } = await db.query<{ fingerprint: string; result: unknown }>(
        'SELECT fingerprint, result FROM te_idempotency_keys WHERE request_id = $1',
        [requestId],
      );
      return rows[0];
    },
    async headPosition() {
      const { rows } = await db.query<{ head: number | null }>('SELECT max(global_position) AS head FROM te_events');
      return Number(rows[0]?.head ?? 0);
    },
  };
}
