import { parseArgs } from 'node:util';
import { positive } from '../lib/positiveOption.ts';

export interface RelayBenchOptions {
  /** Events pre-appended for the throughput phase. */
  events: number;
  /** Appends per second in the latency phase (one event each). */
  rate: number;
  /** Duration of the latency phase. */
  seconds: number;
  /** The relay's read and publish batch (createRelay's default is 500). */
  batchSize: number;
  /** Partitions of the bench's topics (TORRENTEDGE_KAFKA_PARTITIONS defaults to 6). */
  partitions: number;
  /**
   * How the live relay learns of an append: `in-process`, the appending event log's own wake-up
   * (one process, as `torrentedge start` runs it); `notify`, only PostgreSQL NOTIFY through a
   * log instance of its own (as the `torrentedge relay` daemon is woken).
   */
  wakeUp: 'in-process' | 'notify';
  json: boolean;
  help: boolean;
  serverUrl: string;
  brokers: string[];
}

export const usage = `usage: npm run bench -- relay [options]

Pre-appends events to a fresh PostgreSQL database and times the log-to-Kafka relay publishing
them, against bare producer sends of the same messages; then appends at a fixed rate with the
relay live and times each event from append to a consumer group receiving it.

options:
  --events N        events pre-appended for the throughput phase (default 100000)
  --rate R          appends per second in the latency phase (default 1000)
  --seconds S       duration of the latency phase (default 10)
  --batch N         relay batch size, also the baseline's send size (default 500, the relay's)
  --partitions N    partitions of the bench topics (default 6, the server default)
  --wake MODE       how the live relay learns of appends: in-process (default; one process,
                    as \`torrentedge start\`) or notify (PostgreSQL NOTIFY only, as the
                    \`torrentedge relay\` daemon)
  --json            print one JSON object on stdout; progress goes to stderr
  --help            this text

environment:
  BENCH_DATABASE_URL  server to create the database on
                      (default postgres://postgres@127.0.0.1:5432/postgres)
  KAFKA_BROKERS       broker to use (default 127.0.0.1:9092); when nothing answers there, the
                      bench starts the dev broker (scripts/kafka/devBroker.ts) on a temp dir`;


/** Throws on an unknown flag or a bad value; the caller prints usage. */
export function parseOptions(args: string[], env: NodeJS.ProcessEnv): RelayBenchOptions {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      events: { type: 'string' },
      rate: { type: 'string' },
      seconds: { type: 'string' },
      batch: { type: 'string' },
      partitions: { type: 'string' },
      wake: { type: 'string', default: 'in-process' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.wake !== 'in-process' && values.wake !== 'notify') throw new Error(`--wake must be in-process or notify, not "${values.wake}"`);
  return {
    events: positive('events', values.events, 100_000, true),
    rate: positive('rate', values.rate, 1000, false),
    seconds: positive('seconds', values.seconds, 10, false),
    batchSize: positive('batch', values.batch, 500, true),
    partitions: positive('partitions', values.partitions, 6, true),
    wakeUp: values.wake,
    json: values.json,
    help: values.help,
    serverUrl: env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    brokers: (env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((broker) => broker.trim()).filter((broker) => broker !== ''),
  };
}
