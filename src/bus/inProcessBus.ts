import type { ConsumerOptions, IncomingMessage, MessageBus, OutgoingMessage, RunningConsumer, TopicSpec } from './messageBus.ts';

/** FNV-1a: a stable key → partition map (the in-process bus need not match Kafka's murmur2). */
function partitionOf(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % partitions;
}

interface Member {
  handle: (message: IncomingMessage) => Promise<void>;
  topics: ReadonlySet<string>;
  inFlight: number;
  stopping: boolean;
}

interface Group {
  members: Member[];
  /** Next offset to deliver per topic and partition; set when the group first subscribes to a topic. */
  committed: Map<string, number[]>;
  drivers: Set<string>;
}

const redeliveryDelayMs = 20;

/**
 * The embedded bus: topics are arrays in memory, one driver per (group, topic, partition)
 * delivers in order to one member at a time, and the offset moves only after the handler
 * resolved. Same contract as Kafka, minus durability across restarts.
 */
export function createInProcessBus(): MessageBus {
  const topics = new Map<string, IncomingMessage[][]>();
  const groups = new Map<string, Group>();
  const wakers = new Set<() => void>();
  let closed = false;

  const wakeAll = () => {
    for (const wake of [...wakers]) wake();
  };
  const nextWake = () => new Promise<void>((resolve) => {
    const wake = () => {
      wakers.delete(wake);
      resolve();
    };
    wakers.add(wake);
  });

  function log(topic: string): IncomingMessage[][] {
    const partitions = topics.get(topic);
    if (partitions === undefined) throw new Error(`unknown topic ${topic}`);
    return partitions;
  }

  async function drive(group: Group, topic: string, partition: number): Promise<void> {
    const messages = log(topic)[partition]!;
    const offsets = group.committed.get(topic)!;
    for (;;) {
      const live = group.members.filter((member) => !member.stopping && member.topics.has(topic));
      if (closed || live.length === 0) break;
      const offset = offsets[partition]!;
      const message = messages[offset];
      if (message === undefined) {
        await nextWake();
        continue;
      }
      const member = live[partition % live.length]!;
      member.inFlight++;
      try {
        await member.handle(message);
        offsets[partition] = offset + 1;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, redeliveryDelayMs));
      } finally {
        member.inFlight--;
        wakeAll();
      }
    }
    group.drivers.delete(`${topic}/${partition}`);
  }

  return {
    async ensureTopics(specs: readonly TopicSpec[]) {
      for (const spec of specs) if (!topics.has(spec.name)) topics.set(spec.name, Array.from({ length: spec.partitions }, () => []));
    },

    async publish(topic: string, messages: readonly OutgoingMessage[]) {
      const partitions = log(topic);
      for (const message of messages) {
        const partition = partitionOf(message.key, partitions.length);
        const list = partitions[partition]!;
        list.push({ ...message, headers: { ...message.headers }, topic, partition, offset: String(list.length) });
      }
      wakeAll();
    },

    async consume(options: ConsumerOptions, handle: (message: IncomingMessage) => Promise<void>): Promise<RunningConsumer> {
      const group: Group = groups.get(options.group) ?? { members: [], committed: new Map(), drivers: new Set() };
      groups.set(options.group, group);
      const member: Member = { handle, topics: new Set(options.topics), inFlight: 0, stopping: false };
      group.members.push(member);
      for (const topic of options.topics) {
        const partitions = log(topic);
        if (!group.committed.has(topic)) {
          group.committed.set(topic, partitions.map((messages) => (options.fromBeginning ? 0 : messages.length)));
        }
        partitions.forEach((_, partition) => {
          const key = `${topic}/${partition}`;
          if (group.drivers.has(key)) return;
          group.drivers.add(key);
          void drive(group, topic, partition);
        });
      }
      wakeAll(); // a new member takes its share from the next message on
      return {
        async stop() {
          if (member.stopping) return;
          member.stopping = true;
          wakeAll();
          while (member.inFlight > 0) await nextWake();
          group.members = group.members.filter((each) => each !== member);
          wakeAll();
        },
      };
    },

    async lag(groupName: string, topic: string) {
      const offsets = groups.get(groupName)?.committed.get(topic);
      return log(topic).map((messages, partition) => ({ partition, lag: messages.length - (offsets?.[partition] ?? 0) }));
    },

    async close() {
      closed = true;
      wakeAll();
    },
  };
}
