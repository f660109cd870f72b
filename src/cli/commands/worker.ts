import type { Config } from '../../config.ts';
import { createLogger } from '../../observability/logger.ts';
import { createWorkerDaemon } from '../../workers/workerDaemon.ts';
import { stopOnSignal } from '../runUntilSignal.ts';

/** `torrentedge worker`: one node's worker daemon, talking to the api with a node token. */
export async function runWorker(config: Config): Promise<void> {
  const logger = createLogger({ level: config.logLevel });
  const worker = createWorkerDaemon(config, { logger });
  stopOnSignal(logger, () => worker.stop());
  await worker.start();
}
