import type { MessageBus, OutgoingMessage } from '../../src/bus/messageBus.ts';
import type { EventLog, LogCheckpoint, StoredEvent } from '../../src/events/eventLog.ts';
import type { Relay } from '../../src/relay/relay.ts';
import { eventMessage } from '../../src/relay/relayMessages.ts';
import { startCpuMeter, type CpuUse } from '../lib/cpuMeter.ts';
import { withTimeout } from '../lib/withTimeout.ts';
import type { Stage, StageClock } from './stages.ts';

export interface RelayThroughput {
  events: number;
  batches: number;
  /** relay.start() → onPublished has reported every event. */
  elapsedMs: number;
  eventsPerSecond: number;
  /** Wall time in each awaited step of the relay, summed (stages.ts). */
  stagesMs: Record<Stage, number>;
  cpu: CpuUse;
}

/** Starts the relay at the log start and times it until it has published `count` events. */
export async function measureRelayThroughput(
  relay: Relay,
  onRelayed: (listener: (events: readonly StoredEvent[]) => void) => () => void,
  clock: StageClock,
  options: { count: number; timeoutMs: number; signal: AbortSignal; lastWarning: () => string | undefined },
): Promise<RelayThroughput> {
  let published = 0;
  let batches = 0;
  let finishedAt = 0;
  let stopListening = () => undefined as void;
  const done = new Promise<void>((resolve) => {
    stopListening = onRelayed((events) => {
      published += events.length;
      batches += 1;
      if (published >= options.count && finishedAt === 0) {
        finishedAt = performance.now();
        resolve();
      }
    });
  });
  clock.start();
  const cpu = startCpuMeter();
  const started = performance.now();
  try {
    await relay.start();
    await withTimeout(done, options.timeoutMs, `the relay publishing ${options.count} events`, options.signal);
  } catch (error) {
    const warning = options.lastWarning();
    const detail = `${published} published${warning === undefined ? '' : `; the relay's last warning: ${warning}`}`;
    throw new Error(`${error instanceof Error ? error.message : String(error)} (${detail})`, { cause: error });
  } finally {
    clock.stop();
    stopListening();
  }
  const elapsedMs = finishedAt - started;
  return { events: published, batches, elapsedMs, eventsPerSecond: published / (elapsedMs / 1000), stagesMs: { ...clock.totals() }, cpu: cpu.stop() };
}

/** Every event in the log as stored, in log order, read once (untimed) for the baseline. */
export async function readWholeLog(eventLog: EventLog, pageSize = 10_000): Promise<StoredEvent[]> {
  const all: StoredEvent[] = [];
  let after: LogCheckpoint | undefined;
  for (;;) {
    const page = await eventLog.readAllStored({ ...(after === undefined ? {} : { after }), limit: pageSize });
    all.push(...page);
    if (page.length < pageSize) return all;
    after = page[page.length - 1]!.checkpoint;
  }
}

export interface BaselineThroughput {
  events: number;
  elapsedMs: number;
  eventsPerSecond: number;
  /** Building the messages (eventMessage: headers and the JSON around the stored data), untimed in the baseline, measured apart. */
  buildMessagesMs: number;
  /** Mean value bytes, mean header bytes (names and values) per message. */
  valueBytes: number;
  headerBytes: number;
  cpu: CpuUse;
}

/**
 * The floor: the relay's messages for the same events, built beforehand, sent with bus.publish
 * one batch at a time in the relay's batch size, to a fresh topic with the same partitions.
 * No log read, no checkpoint, no serialization in the timed loop: what the producer alone costs.
 */
export async function measureBaseline(
  bus: MessageBus,
  topic: string,
  events: readonly StoredEvent[],
  options: { batchSize: number; signal: AbortSignal },
): Promise<BaselineThroughput> {
  const buildStarted = performance.now();
  const messages: OutgoingMessage[] = events.map(eventMessage);
  const buildMessagesMs = performance.now() - buildStarted;
  let valueBytes = 0;
  let headerBytes = 0;
  for (const message of messages) {
    valueBytes += Buffer.byteLength(message.value);
    for (const [name, value] of Object.entries(message.headers)) headerBytes += Buffer.byteLength(name) + Buffer.byteLength(value);
  }
  const cpu = startCpuMeter();
  const started = performance.now();
  for (let offset = 0; offset < messages.length; offset += options.batchSize) {
    options.signal.throwIfAborted();
    await bus.publish(topic, messages.slice(offset, offset + options.batchSize));
  }
  const elapsedMs = performance.now() - started;
  const cpuUse = cpu.stop();
  return {
    events: messages.length,
    elapsedMs,
    eventsPerSecond: messages.length / (elapsedMs / 1000),
    buildMessagesMs,
    valueBytes: valueBytes / Math.max(1, messages.length),
    headerBytes: headerBytes / Math.max(1, messages.length),
    cpu: cpuUse,
  };
}
