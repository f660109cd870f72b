import { randomUUID } from 'node:crypto';
import type { IncomingMessage, MessageBus, OutgoingMessage } from '../../src/bus/messageBus.ts';
import { headerNames } from '../../src/bus/eventHeaders.ts';
import type { EventLog } from '../../src/events/eventLog.ts';
import type { createCleanupStack } from '../lib/cleanupStack.ts';
import { startCpuMeter, type CpuUse } from '../lib/cpuMeter.ts';
import { runOpenLoop, type OpenLoopResult } from '../lib/openLoop.ts';
import { withTimeout } from '../lib/withTimeout.ts';
import { chunksVerified } from './events.ts';

/** One appended event's timeline, all performance.now(). */
interface Tracked {
  timed: boolean;
  issuedAt: number;
  resolvedAt?: number;
  /** The relay's send of the batch holding it resolved: the broker acknowledged it. */
  ackedAt?: number;
  consumedAt?: number;
}

export interface LatencyResult {
  loop: OpenLoopResult;
  /** Append resolved → consumed by the group: the headline figure. */
  appendToConsumeMs: number[];
  /** Append resolved → the relay's send acknowledged by the broker (log read, serialization, produce). */
  appendToAckedMs: number[];
  /** Acknowledged → consumed (fetch, the consumer's loop); can be slightly negative: the fetch response may beat the produce response. */
  ackedToConsumeMs: number[];
  /** Append issued → resolved. */
  appendMs: number[];
  warmUpEvents: number;
  duplicates: number;
  /** Over the timed appends. */
  cpu: CpuUse;
}

export interface LatencyDeps {
  eventLog: EventLog;
  /** A bus of the consumer's own (its own kafkajs client, as a separate service would have). */
  consumerBus: MessageBus;
  topic: string;
  group: string;
  /** Registers a listener on the relay's acknowledged sends; returns the unregister. */
  onAcked(listener: (topic: string, messages: readonly OutgoingMessage[]) => void): () => void;
  cleanup: ReturnType<typeof createCleanupStack>;
  log: (message: string) => void;
}

const streams = 1000;
const warmUpTimeoutMs = 30_000;
const warmUpFullRateSeconds = 1;
const drainTimeoutMs = 30_000;

function pollUntil(what: string, condition: () => boolean, timeoutMs: number, signal: AbortSignal): Promise<void> {
  return withTimeout(
    (async () => {
      while (!condition() && !signal.aborted) await new Promise((resolve) => setTimeout(resolve, 5));
    })(),
    timeoutMs,
    what,
    signal,
  );
}

/**
 * Single-event appends at `rate` per second for `seconds`, the relay live, a consumer group on
 * the events topic. The group starts at the topic's end (no committed offset, fromBeginning
 * false), so the throughput phase's events are not replayed; a warm-up runs until the group has
 * joined and is receiving, then one second at full rate, and only then the timed appends start.
 */
export async function measureLatency(deps: LatencyDeps, options: { rate: number; seconds: number; signal: AbortSignal }): Promise<LatencyResult> {
  const tracked = new Map<string, Tracked>();
  let warmUpConsumed = 0;
  let timedConsumed = 0;
  let duplicates = 0;

  const handle = async (message: IncomingMessage) => {
    const at = performance.now();
    const entry = tracked.get(message.headers[headerNames.eventId] ?? '');
    if (entry === undefined) return;
    if (entry.consumedAt !== undefined) {
      duplicates += 1;
      return;
    }
    entry.consumedAt = at;
    if (entry.timed) timedConsumed += 1;
    else warmUpConsumed += 1;
  };
  const consumer = await deps.consumerBus.consume({ group: deps.group, topics: [deps.topic], fromBeginning: false }, handle);
  deps.cleanup.push('stop the latency consumer', () => consumer.stop(), 15_000);
  const stopListening = deps.onAcked((topic, messages) => {
    if (topic !== deps.topic) return;
    const at = performance.now();
    for (const message of messages) {
      const entry = tracked.get(message.headers[headerNames.eventId] ?? '');
      if (entry !== undefined) entry.ackedAt ??= at;
    }
  });
  deps.cleanup.push('stop watching the relay', async () => stopListening());

  let sequence = 0;
  const append = async (timed: boolean) => {
    const index = sequence++;
    const eventId = randomUUID();
    const entry: Tracked = { timed, issuedAt: performance.now() };
    tracked.set(eventId, entry);
    await deps.eventLog.appendToStream(`job-bench-live-${index % streams}`, [chunksVerified(index, eventId)], { expectedRevision: 'any' });
    entry.resolvedAt = performance.now();
  };

  // Warm-up: 100/s until the group receives (it has joined and been assigned every partition),
  // then the target rate for a second (JIT, pool connections, the broker's fetch sessions).
  deps.log('latency: waiting for the consumer group to join and receive');
  const joining = new AbortController();
  const stopJoining = () => joining.abort();
  options.signal.addEventListener('abort', stopJoining, { once: true });
  const trickle = runOpenLoop({ rate: 100, seconds: warmUpTimeoutMs / 1000, signal: joining.signal }, () => append(false)).catch(() => undefined);
  try {
    await pollUntil('the consumer group to join and receive', () => warmUpConsumed > 0, warmUpTimeoutMs, options.signal);
  } finally {
    joining.abort();
    options.signal.removeEventListener('abort', stopJoining);
    await trickle;
  }
  await runOpenLoop({ rate: options.rate, seconds: warmUpFullRateSeconds, signal: options.signal }, () => append(false));
  const warmUpEvents = sequence;

  deps.log(`latency: ${options.rate} appends/s for ${options.seconds} s`);
  const cpu = startCpuMeter();
  const loop = await runOpenLoop({ rate: options.rate, seconds: options.seconds, signal: options.signal }, () => append(true));
  const cpuUse = cpu.stop();
  await pollUntil(`the consumer to receive all ${loop.count} timed events`, () => timedConsumed >= loop.count, drainTimeoutMs, options.signal).catch(
    (error: unknown) => {
      throw new Error(`${error instanceof Error ? error.message : String(error)} (${timedConsumed} received)`);
    },
  );
  stopListening();

  const result: LatencyResult = { loop, appendToConsumeMs: [], appendToAckedMs: [], ackedToConsumeMs: [], appendMs: [], warmUpEvents, duplicates, cpu: cpuUse };
  for (const entry of tracked.values()) {
    if (!entry.timed || entry.resolvedAt === undefined || entry.consumedAt === undefined) continue;
    result.appendToConsumeMs.push(entry.consumedAt - entry.resolvedAt);
    result.appendMs.push(entry.resolvedAt - entry.issuedAt);
    if (entry.ackedAt !== undefined) {
      result.appendToAckedMs.push(entry.ackedAt - entry.resolvedAt);
      result.ackedToConsumeMs.push(entry.consumedAt - entry.ackedAt);
    }
  }
  return result;
}
