import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { createInProcessBus } from '../bus/inProcessBus.ts';
import type { MessageBus } from '../bus/messageBus.ts';
import type { Config } from '../config.ts';
import { createKafkaBus } from '../infra/kafka/kafkaBus.ts';

/** Kafka when KAFKA_BROKERS is set, otherwise the in-process bus. */
export function openBus(config: Config, deps: { logger: Logger }, role: string): MessageBus {
  if (config.kafkaBrokers === undefined) return createInProcessBus();
  return createKafkaBus({ logger: deps.logger.child({ component: 'kafka' }) }, { brokers: config.kafkaBrokers, clientId: `torrentedge-${role}-${randomUUID().slice(0, 8)}` });
}
