import type { Logger } from 'pino';

const graceMs = 10_000;

/**
 * Keeps a daemon up until SIGINT or SIGTERM, then stops it gracefully within a grace period.
 * A second signal forces the exit: crash-only recovery makes that safe.
 */
export function stopOnSignal(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal }, 'stopping; send the signal again to force');
    const force = setTimeout(() => {
      logger.error({ graceMs }, 'graceful stop timed out; exiting');
      process.exit(1);
    }, graceMs);
    force.unref();
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
