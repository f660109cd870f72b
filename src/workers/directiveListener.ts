import type { Logger } from 'pino';
import { startEventConsumer } from '../bus/eventConsumer.ts';
import type { RunningConsumer } from '../bus/messageBus.ts';
import type { Config } from '../config.ts';
import { relayTopics } from '../relay/topics.ts';
import { openBus } from '../runtime/openBus.ts';

/**
 * Follows torrent.jobs.dispatch for this node's JOB_ASSIGNED directives. A directive only wakes
 * the worker: what to run is read from the api's job list, which is also what a restarted worker
 * reads, so a lost or duplicated directive changes nothing. Each node has its own consumer group
 * and skips other nodes' keys; a fleet of thousands would give workers their own partitions.
 */
export async function startDirectiveListener(config: Config, deps: { logger: Logger }, onDirective: () => void): Promise<{ stop(): Promise<void> }> {
  if (config.kafkaBrokers === undefined) return { stop: async () => {} };
  const bus = openBus(config, deps, `worker-${config.worker.nodeId}`);
  const topics = relayTopics({ events: config.kafkaPartitions, dispatch: config.kafkaPartitions });
  await bus.ensureTopics([topics.dispatch, topics.deadLetter]);
  const consumer: RunningConsumer = await startEventConsumer(
    { bus, logger: deps.logger },
    { group: `torrentedge-worker-${config.worker.nodeId}`, topics: [topics.dispatch.name], deadLetterTopic: topics.deadLetter.name, fromBeginning: false },
    async (message) => {
      if (message.key !== config.worker.nodeId) return;
      deps.logger.debug({ offset: message.offset }, 'job directive received');
      onDirective();
    },
  );
  return {
    async stop() {
      await consumer.stop();
      await bus.close();
    },
  };
}
