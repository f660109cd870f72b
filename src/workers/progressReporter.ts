import type { Logger } from 'pino';
import type { ChunkSource } from '../events/jobEvents.ts';
import { ApiUnavailableError, type WorkerApi } from './workerApi.ts';

/**
 * Collects verified chunk indexes per source and reports them at most once per interval (about a
 * second): a 1,000-node rollout of 1,000-piece artifacts is then about 1,000 commands a second,
 * not a million. Each batch has its own request id, so a retried batch appends once.
 */
export function createProgressReporter(options: {
  api: WorkerApi;
  key: { transferId: string; nodeId: string };
  fencingToken: number;
  logger: Logger;
  intervalMs?: number;
  onReported?: (source: ChunkSource, count: number) => void;
}) {
  const pending = new Map<ChunkSource, number[]>();
  let sequence = 0;
  let flushing: Promise<void> = Promise.resolve();
  let failure: Error | undefined;
  const timer = setInterval(() => void flush(), options.intervalMs ?? 1000);
  timer.unref();

  function flush(): Promise<void> {
    flushing = flushing.then(async () => {
      const batches = [...pending];
      pending.clear();
      for (const [source, indexes] of batches) {
        const requestId = `chunks:${options.key.transferId}:${options.key.nodeId}:${options.fencingToken}:${sequence++}`;
        try {
          await options.api.reportChunks(options.key, { fencingToken: options.fencingToken, source, chunkIndexes: indexes }, requestId);
          options.onReported?.(source, indexes.length);
        } catch (error) {
          if (error instanceof ApiUnavailableError) {
            // Nothing was decided: the batch goes back and is sent with the next one.
            for (const index of indexes) add(source, index);
            options.logger.warn({ err: error, source, chunks: indexes.length }, 'chunk report not delivered; kept for the next one');
            continue;
          }
          // A rejection (stale token, transfer ended) means this worker must stop: keep it for the job.
          failure = error as Error;
          options.logger.warn({ err: error, source, chunks: indexes.length }, 'chunk report rejected');
        }
      }
    });
    return flushing;
  }

  function add(source: ChunkSource, index: number): void {
    const list = pending.get(source);
    if (list === undefined) pending.set(source, [index]);
    else list.push(index);
  }

  return {
    add,
    /** The first report the api refused, if any. */
    failure: (): Error | undefined => failure,
    flush,
    async stop(): Promise<void> {
      clearInterval(timer);
      await flush();
    },
  };
}

export type ProgressReporter = ReturnType<typeof createProgressReporter>;
