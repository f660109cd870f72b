import type { Config } from '../../config.ts';
import { createPgEventLog } from '../../infra/postgres/eventLog/pgEventLog.ts';
import { createLogger } from '../../observability/logger.ts';
import { createRelay } from '../../relay/relay.ts';
import { relayTopics } from '../../relay/topics.ts';
import { openBus } from '../../runtime/openBus.ts';
import { openDatabase } from '../../runtime/openDatabase.ts';
import { stopOnSignal } from '../runUntilSignal.ts';
import { startTracing } from '../../observability/tracing.ts';

/** `torrentedge relay`: the log-to-Kafka relay as its own daemon. */
export async function runRelay(config: Config): Promise<void> {
  const logger = createLogger({ level: config.logLevel });
  if (config.kafkaBrokers === undefined) throw new Error('the relay daemon needs KAFKA_BROKERS (the in-process bus lives inside `start`)');
  const tracing = startTracing({ serviceName: 'torrentedge-relay', ...(config.otlpTracesEndpoint ? { otlpEndpoint: config.otlpTracesEndpoint } : {}) });
  const db = await openDatabase(config, { logger }, { migrate: true });
  const eventLog = createPgEventLog(db, { onNotifyError: (error) => logger.warn({ err: error }, 'append notification failed') });
  const bus = openBus(config, { logger }, 'relay');
  const relay = createRelay(
    { db, eventLog, bus, logger: logger.child({ component: 'relay' }) },
    { topics: relayTopics({ events: config.kafkaPartitions, dispatch: config.kafkaPartitions }) },
  );
  await relay.start();
  logger.info({ brokers: config.kafkaBrokers }, 'relay running');
  stopOnSignal(logger, async () => {
    await relay.stop();
    await bus.close();
    await db.close();
    await tracing.shutdown();
  });
}
