import type { MessageBus, OutgoingMessage } from '../../src/bus/messageBus.ts';
import type { QueryOptions, SqlDatabase, SqlRow } from '../../src/infra/postgres/sqlDatabase.ts';

export type Stage = 'readAll' | 'checkpoint' | 'publish';

/**
 * Wall time the relay spends in each of its awaited steps, summed over batches: the log read
 * (query and row parsing, inside pg), the checkpoint UPDATE and the producer send (kafkajs
 * encoding, the request and the broker's ack). The relay overlaps them (the next read and the
 * last checkpoint write run while a send awaits its ack), so the sum can exceed the elapsed
 * time; publish alone, which runs one at a time, is the part the others hide behind.
 * Off outside the measured phase; two performance.now() per step when on.
 */
export function createStageClock() {
  const totals: Record<Stage, number> = { readAll: 0, checkpoint: 0, publish: 0 };
  const calls: Record<Stage, number> = { readAll: 0, checkpoint: 0, publish: 0 };
  let on = false;
  return {
    start(): void {
      for (const stage of Object.keys(totals) as Stage[]) {
        totals[stage] = 0;
        calls[stage] = 0;
      }
      on = true;
    },
    stop(): void {
      on = false;
    },
    async time<T>(stage: Stage | undefined, work: () => Promise<T>): Promise<T> {
      if (!on || stage === undefined) return work();
      const started = performance.now();
      try {
        return await work();
      } finally {
        totals[stage] += performance.now() - started;
        calls[stage] += 1;
      }
    },
    totals: (): Readonly<Record<Stage, number>> => ({ ...totals }),
    calls: (): Readonly<Record<Stage, number>> => ({ ...calls }),
  };
}

export type StageClock = ReturnType<typeof createStageClock>;

function stageOfSql(sql: string): Stage | undefined {
  if (sql.includes('pg_snapshot_xmin')) return 'readAll';
  if (sql.includes('UPDATE te_projection_checkpoints')) return 'checkpoint';
  return undefined;
}

/** `db` with its log reads and checkpoint moves timed on `clock`. */
export function timedDatabase(db: SqlDatabase, clock: StageClock): SqlDatabase {
  return {
    kind: db.kind,
    query<R extends SqlRow = SqlRow>(sql: string, params?: readonly unknown[], options?: QueryOptions) {
      return clock.time(stageOfSql(sql), () => db.query<R>(sql, params, options));
    },
    exec: (sql) => db.exec(sql),
    transaction: (fn) => db.transaction(fn),
    withSession: (fn) => db.withSession(fn),
    listen: (channel, onNotify) => db.listen(channel, onNotify),
    close: () => db.close(),
  };
}

/** `bus` with its publishes timed on `clock`; `onAcked` sees each publish the broker acknowledged. */
export function timedBus(
  bus: MessageBus,
  clock: StageClock,
  onAcked: (topic: string, messages: readonly OutgoingMessage[]) => void = () => undefined,
): MessageBus {
  return {
    ensureTopics: (topics) => bus.ensureTopics(topics),
    publish: async (topic, messages) => {
      await clock.time('publish', () => bus.publish(topic, messages));
      onAcked(topic, messages);
    },
    consume: (options, handle) => bus.consume(options, handle),
    lag: (group, topic) => bus.lag(group, topic),
    close: () => bus.close(),
  };
}
