import type { LogCheckpoint, RecordedEvent, Subscription, SubscriptionHandlers } from '../events/eventLog.ts';

/** What the subscription needs of an event: where it sits in the log. */
export interface PositionedEvent {
  checkpoint: LogCheckpoint;
  globalPosition: number;
}

export interface CatchUpSource<E extends PositionedEvent = RecordedEvent> {
  readAll(after: LogCheckpoint, limit: number): Promise<E[]>;
  /** Registers a wake-up called with the newest appended position (if known); returns an unregister. */
  onAppend(listener: (position: number | undefined) => void): Promise<() => Promise<void>>;
}

export interface CatchUpOptions {
  after: LogCheckpoint;
  batchSize: number;
  /** Re-read this often even without a wake-up, in case a notification was lost (listener reconnect). */
  safetyPollMs: number;
  /**
   * While `onEvents` handles a full batch, read the next one, so that the handler's wait (a
   * broker's ack) and the read overlap. Only after a full batch: at the head, a read ahead would
   * mostly come back empty. The read is the same one the loop would make next, only earlier.
   */
  readAhead?: boolean;
}

/**
 * Reads from a checkpoint to the head, then waits for append notifications. One read runs at a
 * time; wake-ups that arrive during a read coalesce into one more read.
 *
 * A notification can name a position that is not yet readable (its transaction committed, but an
 * older one is still open and gates it). The reader then retries with a short backoff until the
 * notified position is passed, so a slow transaction delays live delivery only as long as it runs.
 */
export function startCatchUpSubscription<E extends PositionedEvent = RecordedEvent>(
  source: CatchUpSource<E>,
  options: CatchUpOptions,
  handlers: SubscriptionHandlers<E>,
): Subscription {
  let checkpoint = options.after;
  let lastDeliveredPosition = 0;
  let notifiedPosition = 0;
  let state: 'running' | 'stopping' | 'stopped' = 'running';
  let reading: Promise<void> | undefined;
  let wakeAgain = false;
  let backoffMs = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let unregister: (() => Promise<void>) | undefined;

  const safetyPoll = setInterval(() => wake(undefined), options.safetyPollMs);
  safetyPoll.unref();

  function wake(position: number | undefined): void {
    if (position !== undefined && position > notifiedPosition) notifiedPosition = position;
    if (state !== 'running') return;
    if (reading !== undefined) {
      wakeAgain = true;
      return;
    }
    reading = readToHead().finally(() => {
      reading = undefined;
      if (wakeAgain) {
        wakeAgain = false;
        wake(undefined);
      }
    });
  }

  async function readToHead(): Promise<void> {
    // The read ahead, if one runs: of the events after `ahead.after`. Settled before this returns,
    // so that stop() leaves no query running.
    let ahead: { after: LogCheckpoint; read: Promise<E[]> } | undefined;
    try {
      for (;;) {
        if (state !== 'running') return;
        const readAhead = ahead;
        ahead = undefined;
        // A read ahead from elsewhere than the checkpoint (the handler moved it) is dropped once settled.
        if (readAhead !== undefined && readAhead.after !== checkpoint) await readAhead.read.catch(() => undefined);
        const events = await (readAhead?.after === checkpoint ? readAhead.read : source.readAll(checkpoint, options.batchSize));
        if (events.length === 0) break;
        const last = events[events.length - 1]!;
        if (options.readAhead === true && events.length === options.batchSize) {
          const read = source.readAll(last.checkpoint, options.batchSize);
          read.catch(() => undefined); // no unhandled rejection while the handler runs; awaited above or below
          ahead = { after: last.checkpoint, read };
        }
        const outcome = await handlers.onEvents(events);
        if (outcome !== undefined) {
          checkpoint = outcome.resumeAfter;
          continue;
        }
        checkpoint = last.checkpoint;
        lastDeliveredPosition = Math.max(lastDeliveredPosition, ...events.map((event) => event.globalPosition));
        if (events.length < options.batchSize) break;
      }
      scheduleRetryIfGated();
    } catch (error) {
      handlers.onError(error);
      scheduleRetry();
    } finally {
      await ahead?.read.catch(() => undefined);
    }
  }

  function scheduleRetryIfGated(): void {
    if (notifiedPosition > lastDeliveredPosition) scheduleRetry();
    else backoffMs = 0;
  }

  function scheduleRetry(): void {
    if (state !== 'running' || retryTimer !== undefined) return;
    backoffMs = backoffMs === 0 ? 2 : Math.min(backoffMs * 2, 500);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      wake(undefined);
    }, backoffMs);
  }

  void source.onAppend(wake).then(
    (stopListening) => {
      if (state === 'running') {
        unregister = stopListening;
        wake(undefined); // catch up from the checkpoint now that no wake-up can be missed
      } else {
        void stopListening();
      }
    },
    (error: unknown) => {
      handlers.onError(error);
      wake(undefined);
    },
  );

  return {
    async stop() {
      if (state !== 'running') return;
      state = 'stopping';
      clearInterval(safetyPoll);
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      await reading;
      await unregister?.();
      state = 'stopped';
    },
  };
}
