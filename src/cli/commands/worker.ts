import type { Config } from '../../config.ts';
import { createLogger } from '../../observability/logger.ts';
import { createWorkerDaemon } from '../../workers/workerDaemon.ts';
import { stopOnSignal } from '../runUntilSignal.ts';
import { startTracing } from '../../observability/tracing.ts';
import { missingWorkerFlags, workerNodeFlags } from '../../workers/workerHeap.ts';

/** `torrentedge worker`: one node's worker daemon, talking to the api with a node token. */
export async function runWorker(config: Config): Promise<void> {
  const logger = createLogger({ level: config.logLevel });
  const tracing = startTracing({ serviceName: 'torrentedge-worker', ...(config.otlpTracesEndpoint ? { otlpEndpoint: config.otlpTracesEndpoint } : {}) });
  const missing = missingWorkerFlags();
  if (missing.length > 0) logger.warn({ missing, nodeFlags: workerNodeFlags }, "node was started without the worker's heap flags: the worker will spend more CPU collecting garbage (bin/torrentedge passes them)");
  else logger.info({ nodeFlags: workerNodeFlags }, 'worker starting');
  const worker = createWorkerDaemon(config, { logger });
  stopOnSignal(logger, async () => {
    await worker.stop();
    await tracing.shutdown();
  });
  try {
    await worker.start();
  } catch (error) {
    // start() released what it had opened; exiting lets the supervisor restart the worker.
    logger.error({ err: error }, 'the worker could not start');
    await tracing.shutdown();
    process.exit(1);
  }
}
