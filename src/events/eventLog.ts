import type { EventMetadata } from './metadata.ts';

/**
 * The event log port. Adapters: PostgreSQL (also on PGlite, the embedded default) and, later,
 * EventStoreDB. All of them pass test/contracts/eventLog.contract.ts.
 */

/** An opaque, totally ordered position in the log; compare only by equality. */
export type LogCheckpoint = string & { readonly __logCheckpoint: unique symbol };

export interface NewEvent {
  type: string;
  data: unknown;
  metadata: EventMetadata;
}

export interface RecordedEvent {
  streamId: string;
  /** 0 for a stream's first event. */
  streamRevision: number;
  /** Unique and increasing in insert order; the log order is `checkpoint` order. */
  globalPosition: number;
  /** Resume a subscription or read after this event. */
  checkpoint: LogCheckpoint;
  eventId: string;
  type: string;
  schemaVersion: number;
  data: unknown;
  metadata: EventMetadata;
  recordedAt: Date;
}

/**
 * An event as the log stores it, for a reader that forwards events without looking into their
 * data (the relay): the data stays JSON text and the record time a string, so that neither is
 * parsed only to be serialized again.
 */
export interface StoredEvent extends Omit<RecordedEvent, 'data' | 'recordedAt'> {
  /** `data` as JSON text: the same value, in the store's own spacing and key order. */
  dataJson: string;
  /** `recordedAt` as `Date#toISOString` renders it (UTC, milliseconds). */
  recordedAtIso: string;
}

/** A stream revision, or a condition on it. `-1` is the revision of a stream that does not exist. */
export type ExpectedRevision = number | 'no_stream' | 'any';

/** Stored with the append, keyed by X-Request-ID; a retry with the same key gets `result` back. */
export interface IdempotencyClaim {
  requestId: string;
  /** Hash of the command; the same key with another fingerprint is a conflict. */
  fingerprint: string;
  result: unknown;
}

export type AppendResult =
  | { outcome: 'appended'; streamRevision: number; lastPosition: number }
  | { outcome: 'duplicate'; result: unknown };

export interface SubscriptionHandlers<E = RecordedEvent> {
  /** Events in log order. Return a checkpoint to continue from somewhere else (e.g. a moved projection checkpoint). */
  onEvents(events: E[]): Promise<void | { resumeAfter: LogCheckpoint }>;
  onError(error: unknown): void;
}

export interface SubscribeOptions {
  after?: LogCheckpoint;
  batchSize?: number;
  /** While a full batch is handled, read the next one (for a handler that mostly waits, as the relay on the broker's ack). */
  readAhead?: boolean;
}

export interface Subscription {
  stop(): Promise<void>;
}

export interface EventLog {
  appendToStream(
    streamId: string,
    events: NewEvent[],
    options: { expectedRevision: ExpectedRevision; idempotency?: IdempotencyClaim },
  ): Promise<AppendResult>;
  /** A stream's events from `fromRevision` (0 when omitted); `revision` is the stream's last, -1 when it does not exist. */
  readStream(streamId: string, options?: { fromRevision?: number }): Promise<{ revision: number; events: RecordedEvent[] }>;
  /** Every event of the streams whose id starts with one of `prefixes`, in log order (audit views). */
  readStreamsWithPrefix(prefixes: readonly string[]): Promise<RecordedEvent[]>;
  /** Committed events after `after` (the log start when omitted), in log order. Never skips an event committed later. */
  readAll(options: { after?: LogCheckpoint; limit: number }): Promise<RecordedEvent[]>;
  /** As readAll, each event as stored. */
  readAllStored(options: { after?: LogCheckpoint; limit: number }): Promise<StoredEvent[]>;
  /** Catch up from `after`, then follow live appends. */
  subscribe(options: SubscribeOptions, handlers: SubscriptionHandlers): Subscription;
  /** As subscribe, each event as stored. */
  subscribeStored(options: SubscribeOptions, handlers: SubscriptionHandlers<StoredEvent>): Subscription;
  /** The stored claim for a request id, if a command with it was appended. */
  readIdempotencyKey(requestId: string): Promise<{ fingerprint: string; result: unknown } | undefined>;
  /** The highest global position appended so far (for lag), 0 when empty. */
  headPosition(): Promise<number>;
  readonly start: LogCheckpoint;
}
