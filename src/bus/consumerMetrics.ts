import type { IncomingMessage, MessageBus } from './messageBus.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { EventConsumerDeps } from './eventConsumer.ts';

/** An `onOutcome` for startEventConsumer that counts outcomes and, for directives, the dispatch latency. */
export function consumerOutcomeMetrics(metrics: Metrics, group: string, clock: () => number = Date.now): NonNullable<EventConsumerDeps['onOutcome']> {
  return (outcome, message: IncomingMessage) => {
    metrics.consumedTotal.inc({ group, outcome });
    if (outcome !== 'handled' || message.headers['event-type'] !== 'JOB_ASSIGNED') return;
    const assignedAt = Date.parse((JSON.parse(message.value) as { assignedAt?: string }).assignedAt ?? '');
    if (!Number.isNaN(assignedAt)) metrics.dispatchLatencySeconds.observe(Math.max(0, clock() - assignedAt) / 1000);
  };
}

/** Sets the consumer-lag gauge for a group's partitions of `topic`; call it at scrape time. */
export async function recordConsumerLag(bus: MessageBus, metrics: Metrics, group: string, topic: string): Promise<void> {
  for (const { partition, lag } of await bus.lag(group, topic)) {
    metrics.consumerLag.set({ group, topic, partition: String(partition) }, lag);
  }
}
