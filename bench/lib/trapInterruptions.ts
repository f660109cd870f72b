/**
 * Turns ^C, SIGTERM and a crash-level error (an 'error' event nobody listens to, e.g. on a pg
 * client whose connection died) into an abort, so the run stops its clients and still cleans up
 * (drops its database) instead of dying with the database left behind.
 */
export function trapInterruptions(log: (message: string) => void) {
  const abort = new AbortController();
  const interrupted = new Error('interrupted');

  const onSignal = (name: NodeJS.Signals) => {
    if (abort.signal.aborted) process.exit(130); // asked twice: stop waiting for cleanup
    log(`${name}: cleaning up (again to quit at once)`);
    abort.abort(interrupted);
  };
  const onUncaught = (error: Error) => {
    log(`uncaught error: ${error.message}; cleaning up`);
    if (!abort.signal.aborted) abort.abort(error);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('uncaughtException', onUncaught);

  return {
    signal: abort.signal,
    /** The exit code for a run that threw `error`: 130 when interrupted. */
    exitCodeFor(error: unknown): number {
      const cause: unknown = abort.signal.aborted ? abort.signal.reason : error;
      if (cause === interrupted) return 130;
      console.error(cause);
      return 1;
    },
    release(): void {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('uncaughtException', onUncaught);
    },
  };
}
