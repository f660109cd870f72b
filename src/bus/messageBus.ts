/**
 * The bus port: topics of keyed messages, partitioned by key, consumed by groups. Adapters:
 * Kafka (kafkajs) and the in-process default; both pass test/contracts/messageBus.contract.ts.
 * Delivery is at least once: a message is committed only after its handler resolved, so after a
 * crash or a rebalance it may come again. Handlers dedupe by event id.
 */
export interface OutgoingMessage {
  /** Messages with the same key go to the same partition, in order. */
  key: string;
  value: string;
  headers: Record<string, string>;
}

export interface IncomingMessage extends OutgoingMessage {
  topic: string;
  partition: number;
  offset: string;
}

export interface TopicSpec {
  name: string;
  partitions: number;
}

export interface ConsumerOptions {
  /** Consumers in one group share the partitions; each group sees every message. */
  group: string;
  topics: readonly string[];
  /** Where a group with no committed offset starts. */
  fromBeginning: boolean;
}

export interface RunningConsumer {
  /** Finishes the message in hand, commits what was handled, leaves the group. */
  stop(): Promise<void>;
}

export interface MessageBus {
  /** Creates the topics that do not exist yet. */
  ensureTopics(topics: readonly TopicSpec[]): Promise<void>;
  /** Resolves once the broker has acknowledged every message (all in-sync replicas). */
  publish(topic: string, messages: readonly OutgoingMessage[]): Promise<void>;
  /** Calls `handle` for each message, one at a time per partition; a rejection redelivers the message. */
  consume(options: ConsumerOptions, handle: (message: IncomingMessage) => Promise<void>): Promise<RunningConsumer>;
  /** End offsets minus committed offsets per partition: the group's lag. */
  lag(group: string, topic: string): Promise<Array<{ partition: number; lag: number }>>;
  close(): Promise<void>;
}
