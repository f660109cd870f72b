import type { AppendResult } from '../../../events/eventLog.ts';
import type { SqlExecutor } from '../sqlDatabase.ts';
import { appendBatch, appendToStream, type AppendRequest } from './appendToStream.ts';

interface Pending {
  request: AppendRequest;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
}

export interface AppendBatcherOptions {
  /** Batches in flight at once; more appends wait and join the next batch. */
  maxInFlight: number;
  /** Appends per batch; te_append_batch runs them in one transaction. */
  maxBatch: number;
}

/**
 * Group commit in the application: appends that arrive while batches are in flight queue up
 * and go together in the next one, one statement and one WAL flush for all of them. There is
 * no timer: an append on an idle log goes at once, alone. If a whole batch fails (a deadlock
 * between two batches, a lost connection), its appends are retried one by one.
 */
export function createAppendBatcher(sql: SqlExecutor, options: AppendBatcherOptions) {
  const queue: Pending[] = [];
  let inFlight = 0;

  async function send(batch: Pending[]): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch;
      await appendToStream(sql, only!.request).then(only!.resolve, only!.reject);
      return;
    }
    let results: Array<PromiseSettledResult<AppendResult>>;
    try {
      results = await appendBatch(sql, batch.map((pending) => pending.request));
    } catch {
      await Promise.all(batch.map((pending) => appendToStream(sql, pending.request).then(pending.resolve, pending.reject)));
      return;
    }
    results.forEach((result, i) => (result.status === 'fulfilled' ? batch[i]!.resolve(result.value) : batch[i]!.reject(result.reason)));
  }

  function pump(): void {
    while (inFlight < options.maxInFlight && queue.length > 0) {
      const batch = queue.splice(0, options.maxBatch);
      inFlight++;
      void send(batch).finally(() => {
        inFlight--;
        pump();
      });
    }
  }

  return {
    append(request: AppendRequest): Promise<AppendResult> {
      return new Promise((resolve, reject) => {
        queue.push({ request, resolve, reject });
        pump();
      });
    },
  };
}
