import type { Logger } from 'pino';
import type { MessageBus, OutgoingMessage } from '../bus/messageBus.ts';
import type { EventLog, LogCheckpoint, StoredEvent, Subscription } from '../events/eventLog.ts';
import type { SqlDatabase } from '../infra/postgres/sqlDatabase.ts';
import { advanceCheckpoint, ensureCheckpoint } from '../projections/checkpoints.ts';
import { boundedEventMessage, dispatchMessage, messageBytes } from './relayMessages.ts';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { contextFrom, inSpan, SpanKind, startSpan, traceHeadersOf } from '../observability/tracing.ts';
import type { RelayTopics } from './topics.ts';
import { headerNames } from '../bus/eventHeaders.ts';

export interface RelayDeps {
  db: SqlDatabase;
  eventLog: EventLog;
  bus: MessageBus;
  logger: Logger;
  /** Acknowledged events, once the checkpoint has moved past them; feeds the produced-count and relay-lag metrics. */
  onPublished?: (events: readonly StoredEvent[]) => void;
}

export const relayCheckpointName = 'relay:bus';

// Kafka refuses a produce request over the broker's message.max.bytes (1 MiB by default), and
// kafkajs does not retry that: a batch of 5,000 events wedged the relay. Sends stay well below.
const maxSendBytes = 512 * 1024;
// One message must fit the broker's default message.max.bytes (1 MiB) with the batch's overhead.
export const maxEventMessageBytes = 900 * 1024;

/**
 * Splits messages into runs whose keys, values and headers add up to at most `maxBytes` (one
 * message may exceed it alone). `bytesOf` gives a message's size when the caller has it already.
 */
export function chunkByBytes(
  messages: readonly OutgoingMessage[],
  maxBytes: number,
  bytesOf: (message: OutgoingMessage, index: number) => number = messageBytes,
): OutgoingMessage[][] {
  const chunks: OutgoingMessage[][] = [];
  let current: OutgoingMessage[] = [];
  let bytes = 0;
  for (const [index, message] of messages.entries()) {
    const size = bytesOf(message, index);
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

export type RelayState = { status: 'idle' } | { status: 'running'; subscription: Subscription } | { status: 'stopped' };

/**
 * Mirrors the event log into the bus. Each batch is published and acknowledged by the broker
 * before the checkpoint moves past it, so a kill -9 at any moment re-publishes at most the
 * batches in hand: delivery is at least once, in log order per stream, and consumers drop
 * duplicates by event id. The checkpoint moves by compare-and-set, as a projection's does, so two
 * relays never skip.
 *
 * Pipelined: the log read of the next batch runs while the broker acknowledges this one (the
 * subscription's read ahead), and the checkpoint write of a batch runs while the next batch is
 * published. Writes stay in order: one at a time, each after its batch's ack, each from what the
 * previous one stored. Sends stay one at a time (the idempotent producer serializes them anyway,
 * and two sends in flight could reorder a stream on a retry).
 */
export function createRelay(deps: RelayDeps, options: { topics: RelayTopics; batchSize?: number }) {
  let state: RelayState = { status: 'idle' };
  /** What the checkpoint row holds, as far as this relay knows: the `from` of its next compare-and-set. */
  let stored: LogCheckpoint | undefined;
  /** The checkpoint write in flight, if any: settles to the checkpoint someone else stored, undefined when it moved, or the error. */
  let storing: Promise<{ moved?: LogCheckpoint; error?: Error }> | undefined;
  /** Batches acknowledged whose checkpoint write has not landed yet (reported to onPublished when it does). */
  let unreported: Array<readonly StoredEvent[]> = [];

  async function publish(events: readonly StoredEvent[]): Promise<void> {
    await inSpan('relay publish', { parent: ROOT_CONTEXT, kind: SpanKind.PRODUCER, attributes: { 'messaging.batch.message_count': events.length } }, async () => {
      const messages: OutgoingMessage[] = [];
      const sizes: number[] = [];
      for (const event of events) {
        const { message, bytes } = boundedEventMessage(event, maxEventMessageBytes);
        if (message.headers[headerNames.oversize] !== undefined) deps.logger.warn({ eventId: event.eventId, bytes: Number(message.headers[headerNames.oversize]) }, 'event too large for one message; published as a reference');
        messages.push(message);
        sizes.push(bytes);
      }
      for (const chunk of chunkByBytes(messages, maxSendBytes, (_, index) => sizes[index]!)) await deps.bus.publish(options.topics.events.name, chunk);
    });
    // A directive continues its job's trace: one PRODUCER span each, whose context the message carries.
    const assigned = events.filter((event) => event.type === 'JobAssigned');
    if (assigned.length === 0) return;
    const spans = assigned.map((event) => startSpan('publish JOB_ASSIGNED', { parent: contextFrom(event.metadata), kind: SpanKind.PRODUCER }));
    try {
      const directives = assigned.map((event, i) => dispatchMessage(event, traceHeadersOf(spans[i]!.ctx))!);
      await deps.bus.publish(options.topics.dispatch.name, directives);
    } finally {
      for (const { span } of spans) span.end();
    }
  }

  /** Starts moving the checkpoint to `to` (after the previous write settled); the outcome is awaited by the next batch or by stop(). */
  function storeCheckpoint(to: LogCheckpoint, events: readonly StoredEvent[]): void {
    unreported.push(events);
    storing = advanceCheckpoint(deps.db, relayCheckpointName, stored!, to, deps.eventLog.start).then(
      (moved) => {
        if (moved !== undefined) return { moved };
        stored = to;
        const published = unreported.length === 1 ? unreported[0]! : unreported.flat();
        unreported = [];
        deps.onPublished?.(published);
        return {};
      },
      (error: unknown) => ({ error: error instanceof Error ? error : new Error(String(error)) }),
    );
  }

  /** The outcome of the write in flight; throws its error, so the subscription retries from its checkpoint. */
  async function settleCheckpoint(): Promise<LogCheckpoint | undefined> {
    const outcome = await storing;
    storing = undefined;
    if (outcome?.error !== undefined) throw outcome.error;
    return outcome?.moved;
  }

  return {
    get state(): RelayState['status'] {
      return state.status;
    },
    async start(): Promise<void> {
      if (state.status !== 'idle') throw new Error(`relay cannot start: it is ${state.status}`);
      await deps.bus.ensureTopics([options.topics.events, options.topics.dispatch, options.topics.deadLetter]);
      stored = await ensureCheckpoint(deps.db, relayCheckpointName, deps.eventLog.start);
      const subscription = deps.eventLog.subscribeStored(
        { after: stored, batchSize: options.batchSize ?? 500, readAhead: true },
        {
          onEvents: async (events) => {
            await publish(events);
            const moved = await settleCheckpoint();
            if (moved !== undefined) {
              // Another relay moved it: go on from there (what both published twice is dropped by consumers).
              deps.logger.info('relay checkpoint moved elsewhere; resuming from it');
              stored = moved;
              unreported = [];
              return { resumeAfter: moved };
            }
            storeCheckpoint(events[events.length - 1]!.checkpoint, events);
            return undefined;
          },
          // The broker is down or refused the batch, or a checkpoint write failed: the checkpoint
          // stays where it was stored; the subscription retries with backoff.
          onError: (error) => deps.logger.warn({ err: error }, 'relay batch not acknowledged; retrying'),
        },
      );
      state = { status: 'running', subscription };
    },
    async stop(): Promise<void> {
      if (state.status === 'running') {
        await state.subscription.stop();
        await settleCheckpoint().catch((error: unknown) => deps.logger.warn({ err: error }, 'relay checkpoint not stored on stop; the last batch will be published again'));
      }
      state = { status: 'stopped' };
    },
  };
}

export type Relay = ReturnType<typeof createRelay>;
