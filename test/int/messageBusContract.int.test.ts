import { randomUUID } from 'node:crypto';
import { createInProcessBus } from '../../src/bus/inProcessBus.ts';
import { createKafkaBus } from '../../src/infra/kafka/kafkaBus.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { messageBusContract } from '../contracts/messageBus.contract.ts';
import { testKafkaBrokers } from '../helpers/testKafka.ts';

messageBusContract('in-process (embedded)', async () => createInProcessBus(), { timeoutMs: 5_000 });
messageBusContract('Kafka', async () => createKafkaBus({ logger: silentLogger() }, { brokers: testKafkaBrokers, clientId: `contract-${randomUUID()}` }), {
  timeoutMs: 30_000,
});
