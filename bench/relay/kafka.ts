import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { devBrokerOptions, isListening, startDevBroker, stopDevBroker } from '../../scripts/kafka/devBroker.ts';
import type { RelayTopics } from '../../src/relay/topics.ts';

export interface BenchBroker {
  brokers: string[];
  /** True when nothing answered and the bench started the dev broker; `stop` then stops it. */
  startedByBench: boolean;
  stop(): Promise<void>;
}

/** The broker named by KAFKA_BROKERS if it answers, else the dev broker on a temp data dir of its own. */
export async function ensureBroker(brokers: string[], env: NodeJS.ProcessEnv, log: (message: string) => void): Promise<BenchBroker> {
  const [host = '127.0.0.1', port = '9092'] = (brokers[0] ?? '127.0.0.1:9092').split(':');
  if (await isListening(host, Number(port), 2000)) return { brokers, startedByBench: false, stop: async () => undefined };
  const dataDir = await mkdtemp(join(tmpdir(), 'te-bench-kafka-'));
  const options = { ...devBrokerOptions(env), host, port: Number(port), controllerPort: Number(port) + 1, dataDir };
  log(`nothing answers on ${host}:${port}; starting the dev broker (data in ${dataDir})`);
  const stop = async () => {
    await stopDevBroker(dataDir);
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await startDevBroker(options);
  } catch (error) {
    await stop();
    throw error;
  }
  return { brokers: [`${host}:${port}`], startedByBench: true, stop };
}

/** Topic names of one run: unique, so runs never read each other's messages. */
export function benchTopics(run: string, partitions: number): { relay: RelayTopics; baseline: string; warmUp: string; all: string[] } {
  const relay: RelayTopics = {
    events: { name: `bench.${run}.events`, partitions },
    dispatch: { name: `bench.${run}.jobs.dispatch`, partitions },
    deadLetter: { name: `bench.${run}.deadletter`, partitions: 1 },
  };
  const baseline = `bench.${run}.baseline`;
  const warmUp = `bench.${run}.warmup`;
  return { relay, baseline, warmUp, all: [relay.events.name, relay.dispatch.name, relay.deadLetter.name, baseline, warmUp] };
}

/** The bench's own admin client: counts messages and removes the run's topics and groups. */
export async function connectBenchAdmin(brokers: string[]) {
  const kafka = new Kafka({ clientId: 'te-bench-admin', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  return {
    /** Messages in a topic: the sum over partitions of high minus low watermark. */
    async messageCount(topic: string): Promise<number> {
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.reduce((sum, partition) => sum + Number(partition.high) - Number(partition.low), 0);
    },
    async deleteTopics(names: readonly string[]): Promise<void> {
      const existing = new Set(await admin.listTopics());
      const topics = names.filter((name) => existing.has(name));
      if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 15_000 });
    },
    async deleteGroups(groups: readonly string[]): Promise<void> {
      const existing = new Set((await admin.listGroups()).groups.map((group) => group.groupId));
      const present = groups.filter((group) => existing.has(group));
      if (present.length > 0) await admin.deleteGroups(present);
    },
    close: () => admin.disconnect(),
  };
}

export type BenchAdmin = Awaited<ReturnType<typeof connectBenchAdmin>>;
