import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { IncomingMessage, MessageBus, RunningConsumer } from './messageBus.ts';
import { headerNames } from './eventHeaders.ts';
import { contextFrom, inSpan, SpanKind } from '../observability/tracing.ts';

const traceOf = (message: IncomingMessage) => {
  const traceparent = message.headers[headerNames.traceparent];
  const tracestate = message.headers[headerNames.tracestate];
  return { ...(traceparent === undefined ? {} : { traceparent }), ...(tracestate === undefined ? {} : { tracestate }) };
};

/** Thrown by a handler for a message that can never succeed: it goes to the dead-letter topic at once. */
export class PoisonMessageError extends Error {
  override name = 'PoisonMessageError';
}

export interface EventConsumerOptions {
  /** One group per role (e.g. `worker-<node>`, `audit-archiver`). */
  group: string;
  topics: readonly string[];
  deadLetterTopic: string;
  /** Attempts before a message is dead-lettered. */
  maxAttempts?: number;
  /** First retry delay; doubles per attempt up to 5 s. */
  retryDelayMs?: number;
  /** How many handled event ids are remembered for dedupe. */
  dedupeWindow?: number;
  fromBeginning?: boolean;
}

export interface EventConsumerDeps {
  bus: MessageBus;
  logger: Logger;
  onOutcome?: (outcome: 'handled' | 'duplicate' | 'retried' | 'dead-lettered', message: IncomingMessage) => void;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

/**
 * At-least-once consumption made safe for handlers: duplicates (same event id) are skipped,
 * failures are retried with backoff, and a message that keeps failing, or is poison, is published
 * to the dead-letter topic with the error and then committed, so one bad message cannot stall its
 * partition. `stop()` lets the message in hand finish (a pending retry is abandoned and the
 * message redelivered later), then commits what was handled.
 */
export async function startEventConsumer(
  deps: EventConsumerDeps,
  options: EventConsumerOptions,
  handle: (message: IncomingMessage) => Promise<void>,
): Promise<RunningConsumer> {
  const maxAttempts = options.maxAttempts ?? 5;
  const firstDelay = options.retryDelayMs ?? 100;
  const handled = new LRUCache<string, true>({ max: options.dedupeWindow ?? 10_000 });
  const stopping = new AbortController();

  async function deadLetter(message: IncomingMessage, error: unknown, attempts: number): Promise<void> {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    await deps.bus.publish(options.deadLetterTopic, [
      {
        key: message.key,
        value: message.value,
        headers: {
          ...message.headers,
          'dead-letter-error': reason.slice(0, 2000),
          'dead-letter-group': options.group,
          'dead-letter-source': `${message.topic}/${message.partition}/${message.offset}`,
          'dead-letter-attempts': String(attempts),
        },
      },
    ]);
    deps.logger.error({ err: error, topic: message.topic, partition: message.partition, offset: message.offset }, 'message dead-lettered');
    deps.onOutcome?.('dead-lettered', message);
  }

  const consumer = await deps.bus.consume(
    { group: options.group, topics: options.topics, fromBeginning: options.fromBeginning ?? true },
    async (message) => {
      const eventId = message.headers[headerNames.eventId];
      if (eventId !== undefined && handled.has(eventId)) {
        deps.onOutcome?.('duplicate', message);
        return;
      }
      for (let attempt = 1; ; attempt++) {
        try {
          if (eventId === undefined) throw new PoisonMessageError(`no ${headerNames.eventId} header`);
          // The handler runs in a CONSUMER span continuing the message's trace (context.active() inside it).
          await inSpan(`consume ${message.topic}`, { parent: contextFrom(traceOf(message)), kind: SpanKind.CONSUMER, attributes: { 'messaging.consumer.group.name': options.group } }, () =>
            handle(message),
          );
          handled.set(eventId, true);
          deps.onOutcome?.('handled', message);
          return;
        } catch (error) {
          if (error instanceof PoisonMessageError || attempt >= maxAttempts) {
            await deadLetter(message, error, attempt);
            if (eventId !== undefined) handled.set(eventId, true);
            return;
          }
          deps.onOutcome?.('retried', message);
          await sleep(Math.min(firstDelay * 2 ** (attempt - 1), 5000), stopping.signal);
          // Stopping: leave the message uncommitted; it is redelivered to whoever consumes next.
          if (stopping.signal.aborted) throw new Error('consumer stopping', { cause: error });
        }
      }
    },
  );

  return {
    async stop() {
      stopping.abort();
      await consumer.stop();
    },
  };
}
