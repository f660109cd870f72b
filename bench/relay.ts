/**
 * `npm run bench -- relay [--json]`: throughput of the log-to-Kafka relay from a pre-filled log
 * against bare producer sends of the same messages, and append-to-consume latency at a fixed
 * append rate with the relay live, on real PostgreSQL and a real Kafka broker. See
 * docs/benchmarks.md for the method and the figures.
 */
import { randomBytes } from 'node:crypto';
import type { OutgoingMessage } from '../src/bus/messageBus.ts';
import type { StoredEvent } from '../src/events/eventLog.ts';
import { createKafkaBus } from '../src/infra/kafka/kafkaBus.ts';
import { createPgEventLog } from '../src/infra/postgres/eventLog/pgEventLog.ts';
import { migrate } from '../src/infra/postgres/migrate.ts';
import { createPgDatabase } from '../src/infra/postgres/pgDatabase.ts';
import { silentLogger } from '../src/observability/logger.ts';
import { createRelay } from '../src/relay/relay.ts';
import { createBenchDatabase, serverVersion } from './controlPlane/benchDatabase.ts';
import type { createCleanupStack } from './lib/cleanupStack.ts';
import { describeMachine } from './lib/machine.ts';
import { runBench } from './lib/benchMain.ts';
import { preAppend } from './relay/events.ts';
import { benchTopics, connectBenchAdmin, ensureBroker } from './relay/kafka.ts';
import { measureLatency } from './relay/latency.ts';
import { parseOptions, usage, type RelayBenchOptions } from './relay/options.ts';
import { buildReport, formatReport, type RelayReport } from './relay/report.ts';
import { createStageClock, timedBus, timedDatabase } from './relay/stages.ts';
import { createWarningTap } from './relay/warningTap.ts';
import { measureBaseline, measureRelayThroughput, readWholeLog } from './relay/throughput.ts';

/** The pool `torrentedge start` opens (createPgDatabase's default); relay and appends share it there too. */
const poolSize = 20;
const preloadShape = { perAppend: 100, streams: 1000, concurrency: 8 };
const throughputTimeoutMs = 90_000;

// Progress goes to stderr in every mode, so stdout carries only the result.
const log = (message: string): void => console.error(`[bench relay] ${message}`);
const seconds = (since: number): string => `${((performance.now() - since) / 1000).toFixed(1)} s`;

export function main(args: string[]): Promise<number> {
  return runBench({ log, usage, parseOptions, measure, formatReport }, args);
}

async function measure(options: RelayBenchOptions, signal: AbortSignal, cleanup: ReturnType<typeof createCleanupStack>): Promise<RelayReport> {
  const postgres = await serverVersion(options.serverUrl);
  const broker = await ensureBroker(options.brokers, process.env, log);
  cleanup.push('stop the dev broker', () => broker.stop(), 30_000);
  signal.throwIfAborted();

  const run = randomBytes(4).toString('hex');
  const topics = benchTopics(run, options.partitions);
  const group = `bench.${run}.latency`;
  const admin = await connectBenchAdmin(broker.brokers);
  cleanup.push('close the Kafka admin client', () => admin.close());
  cleanup.push(
    `delete topics and group bench.${run}.*`,
    async () => {
      await admin.deleteGroups([group]);
      await admin.deleteTopics(topics.all);
    },
    20_000,
  );

  const database = await createBenchDatabase(options.serverUrl);
  cleanup.push(`drop database ${database.name}`, () => database.drop(), 20_000);
  log(`database ${database.name}, topics bench.${run}.*, broker ${broker.brokers.join(',')}`);
  const db = createPgDatabase({ logger: silentLogger() }, { connectionString: database.url, maxConnections: poolSize, applicationName: 'te-bench-relay' });
  cleanup.push('close the pool', () => db.close());
  await migrate(db, { logger: silentLogger() });

  // The relay's reads and checkpoint moves are timed (stages.ts); in-process wake-up shares the
  // appending log instance with the relay, as `torrentedge start` does.
  const clock = createStageClock();
  const relayLog = createPgEventLog(timedDatabase(db, clock));
  const appendLog = options.wakeUp === 'in-process' ? relayLog : createPgEventLog(db);

  let started = performance.now();
  log(`pre-appending ${options.events} events (${preloadShape.perAppend} per append over ${preloadShape.streams} streams)`);
  await preAppend(appendLog, { count: options.events, ...preloadShape, signal });
  log(`pre-appended in ${seconds(started)}`);
  // Settle the server before anything is timed: without this, autovacuum of the 100k fresh rows
  // and the checkpoint of their WAL land in the middle of a phase.
  started = performance.now();
  await db.exec('VACUUM (ANALYZE) te_events');
  await db.exec('CHECKPOINT').catch((error: unknown) => log(`CHECKPOINT skipped: ${error instanceof Error ? error.message : String(error)}`));
  log(`vacuumed and checkpointed in ${seconds(started)}`);

  const relayBus = createKafkaBus({ logger: silentLogger() }, { brokers: broker.brokers, clientId: `te-bench-relay-${run}` });
  cleanup.push('close the relay bus', () => relayBus.close(), 15_000);
  const warmUpTopic = { name: topics.warmUp, partitions: options.partitions };
  // Topics exist and the producer is connected before the clock starts: not part of a steady relay.
  await relayBus.ensureTopics([topics.relay.events, topics.relay.dispatch, topics.relay.deadLetter, warmUpTopic]);
  await relayBus.publish(topics.warmUp, [{ key: 'warm-up', value: '{}', headers: {} }]);

  const published = createListeners<[events: readonly StoredEvent[]]>();
  const acked = createListeners<[topic: string, messages: readonly OutgoingMessage[]]>();
  const relayWarnings = createWarningTap();
  const relay = createRelay(
    {
      db: timedDatabase(db, clock),
      eventLog: relayLog,
      bus: timedBus(relayBus, clock, acked.emit),
      logger: relayWarnings.logger,
      onPublished: published.emit,
    },
    { topics: topics.relay, batchSize: options.batchSize },
  );
  cleanup.push('stop the relay', () => relay.stop(), 15_000);

  log(`throughput: relay from the log start, batch ${options.batchSize}`);
  const throughput = await measureRelayThroughput(relay, published.listen, clock, {
    count: options.events,
    timeoutMs: throughputTimeoutMs,
    signal,
    lastWarning: () => relayWarnings.last(),
  });
  const onTopic = await admin.messageCount(topics.relay.events.name);
  if (onTopic < options.events) throw new Error(`the relay reported ${throughput.events} published, but ${topics.relay.events.name} holds ${onTopic}`);
  log(`relay: ${throughput.events} events in ${(throughput.elapsedMs / 1000).toFixed(2)} s (${throughput.eventsPerSecond.toFixed(0)}/s)`);

  log('baseline: the same messages with bus.publish');
  const events = await readWholeLog(relayLog);
  if (events.length !== options.events) throw new Error(`read ${events.length} events back, expected ${options.events}`);
  const baselineBus = createKafkaBus({ logger: silentLogger() }, { brokers: broker.brokers, clientId: `te-bench-baseline-${run}` });
  cleanup.push('close the baseline bus', () => baselineBus.close(), 15_000);
  await baselineBus.ensureTopics([{ name: topics.baseline, partitions: options.partitions }, warmUpTopic]);
  await baselineBus.publish(topics.warmUp, [{ key: 'warm-up', value: '{}', headers: {} }]);
  const baseline = await measureBaseline(baselineBus, topics.baseline, events, { batchSize: options.batchSize, signal });
  events.length = 0;
  await baselineBus.close();
  log(`baseline: ${baseline.events} events in ${(baseline.elapsedMs / 1000).toFixed(2)} s (${baseline.eventsPerSecond.toFixed(0)}/s)`);

  started = performance.now();
  const consumerBus = createKafkaBus({ logger: silentLogger() }, { brokers: broker.brokers, clientId: `te-bench-consumer-${run}` });
  cleanup.push('close the consumer bus', () => consumerBus.close(), 15_000);
  const latency = await measureLatency(
    { eventLog: appendLog, consumerBus, topic: topics.relay.events.name, group, onAcked: acked.listen, cleanup, log },
    { rate: options.rate, seconds: options.seconds, signal },
  );
  log(`latency phase done in ${seconds(started)} (${latency.warmUpEvents} warm-up events)`);

  return buildReport({
    relay: throughput,
    baseline,
    latency,
    relayWarnings: relayWarnings.count(),
    options: { ...options },
    machine: { ...describeMachine(), postgres, kafka: { brokers: broker.brokers, startedByBench: broker.startedByBench } },
  });
}

function createListeners<A extends unknown[]>() {
  const listeners = new Set<(...args: A) => void>();
  return {
    emit: (...args: A): void => {
      for (const listener of listeners) listener(...args);
    },
    /** Returns the unregister. */
    listen: (listener: (...args: A) => void): (() => void) => {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}
