import type { Logger } from 'pino';
import type { MessageBus, OutgoingMessage } from '../bus/messageBus.ts';
import type { EventLog, LogCheckpoint, RecordedEvent, Subscription } from '../events/eventLog.ts';
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
  /** After each acknowledged batch; feeds the produced-count and relay-lag metrics. */
  onPublished?: (events: readonly RecordedEvent[]) => void;
}

export const relayCheckpointName = 'relay:bus';

// Kafka refuses a produce request over the broker's message.max.bytes (1 MiB by default), and
// kafkajs does not retry that: a batch of 5,000 events wedged the relay. Sends stay well below.
const maxSendBytes = 512 * 1024;
// One message must fit the broker's default message.max.bytes (1 MiB) with the batch's overhead.
export const maxEventMessageBytes = 900 * 1024;

/** Splits messages into runs whose keys, values and headers add up to at most `maxBytes` (one message may exceed it alone). */
export function chunkByBytes(messages: readonly OutgoingMessage[], maxBytes: number): OutgoingMessage[][] {
  const chunks: OutgoingMessage[][] = [];
  let current: OutgoingMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = messageBytes(message);
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
 * before the checkpoint moves, so a kill -9 at any moment re-publishes at most the batch in hand:
 * delivery is at least once, in log order per stream, and consumers drop duplicates by event id.
 * The checkpoint moves by compare-and-set, as a projection's does, so two relays never skip.
 */
export function createRelay(deps: RelayDeps, options: { topics: RelayTopics; batchSize?: number }) {
  let state: RelayState = { status: 'idle' };
  let checkpoint: LogCheckpoint | undefined;

  async function publish(events: readonly RecordedEvent[]): Promise<void> {
    await inSpan('relay publish', { parent: ROOT_CONTEXT, kind: SpanKind.PRODUCER, attributes: { 'messaging.batch.message_count': events.length } }, async () => {
      const messages = events.map((event) => boundedEventMessage(event, maxEventMessageBytes));
      for (const [index, message] of messages.entries()) {
        if (message.headers[headerNames.oversize] !== undefined) deps.logger.warn({ eventId: events[index]!.eventId, bytes: Number(message.headers[headerNames.oversize]) }, 'event too large for one message; published as a reference');
      }
      for (const chunk of chunkByBytes(messages, maxSendBytes)) await deps.bus.publish(options.topics.events.name, chunk);
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

  return {
    get state(): RelayState['status'] {
      return state.status;
    },
    async start(): Promise<void> {
      if (state.status !== 'idle') throw new Error(`relay cannot start: it is ${state.status}`);
      await deps.bus.ensureTopics([options.topics.events, options.topics.dispatch, options.topics.deadLetter]);
      checkpoint = await ensureCheckpoint(deps.db, relayCheckpointName, deps.eventLog.start);
      const subscription = deps.eventLog.subscribe(
        { after: checkpoint, batchSize: options.batchSize ?? 500 },
        {
          onEvents: async (events) => {
            await publish(events);
            const moved = await advanceCheckpoint(deps.db, relayCheckpointName, checkpoint!, events[events.length - 1]!.checkpoint, deps.eventLog.start);
            if (moved !== undefined) {
              deps.logger.info('relay checkpoint moved elsewhere; resuming from it');
              checkpoint = moved;
              return { resumeAfter: moved };
            }
            checkpoint = events[events.length - 1]!.checkpoint;
            deps.onPublished?.(events);
            return undefined;
          },
          // The broker is down or refused the batch: nothing moved; the subscription retries with backoff.
          onError: (error) => deps.logger.warn({ err: error }, 'relay batch not acknowledged; retrying'),
        },
      );
      state = { status: 'running', subscription };
    },
    async stop(): Promise<void> {
      if (state.status === 'running') await state.subscription.stop();
      state = { status: 'stopped' };
    },
  };
}

export type Relay = ReturnType<typeof createRelay>;
