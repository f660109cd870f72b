import type { LogCheckpoint, RecordedEvent, Subscription, SubscriptionHandlers } from '../events/eventLog.ts';

export interface CatchUpSource {
  readAll(after: LogCheckpoint, limit: number): Promise<RecordedEvent[]>;
  /** Registers a wake-up called with the newest appended position (if known); returns an unregister. */
  onAppend(listener: (position: number | undefined) => void): Promise<() => Promise<void>>;
}

export interface CatchUpOptions {
  after: LogCheckpoint;
  batchSize: number;
  /** Re-read this often even without a wake-up, in case a notification was lost (listener reconnect). */
  safetyPollMs: number;
}

/**
 * Reads from a checkpoint to the head, then waits for append notifications. One read runs at a
 * time; wake-ups that arrive during a read coalesce into one more read.
 *
 * A notification can name a position that is not yet readable (its transaction committed, but an
 * older one is still open and gates it). The reader then retries with a short backoff until the
 * notified position is passed, so a slow transaction delays live delivery only as long as it runs.
 */
export function startCatchUpSubscription(
  source: CatchUpSource,
  options: CatchUpOptions,
  handlers: SubscriptionHandlers,
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
    try {
      for (;;) {
        if (state !== 'running') return;
        const events = await source.readAll(checkpoint, options.batchSize);
        if (events.length === 0) break;
        const last = events[events.length - 1]!;
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
