/**
 * A closed-loop load generator: `concurrency` clients, each issuing its next operation as soon
 * as the previous one resolved, until the deadline. Throughput is completed operations over the
 * wall time until the last client finished, so an operation still running at the deadline counts
 * and its time is included.
 */
export interface ClosedLoopOptions {
  concurrency: number;
  seconds: number;
  signal: AbortSignal;
}

export interface ClosedLoopResult {
  count: number;
  elapsedMs: number;
  opsPerSecond: number;
  latenciesMs: number[];
}

export interface ClosedLoopWork {
  /** The measured operation of one client. */
  operation(client: number): Promise<void>;
  /** Untimed work before an operation (e.g. setting up the next job); it still spends wall time. */
  prepare?(client: number): Promise<void>;
}

export async function runClosedLoop(options: ClosedLoopOptions, work: ClosedLoopWork): Promise<ClosedLoopResult> {
  const latenciesMs: number[] = [];
  let failed = false;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const keepGoing = () => !failed && !options.signal.aborted && performance.now() < deadline;

  const client = async (index: number): Promise<void> => {
    while (keepGoing()) {
      await work.prepare?.(index);
      const t0 = performance.now();
      await work.operation(index);
      latenciesMs.push(performance.now() - t0);
    }
  };

  // allSettled, not all: on a failure the other clients must finish their in-flight operation
  // before the caller tears anything down.
  const outcomes = await Promise.allSettled(
    Array.from({ length: options.concurrency }, (_, index) =>
      client(index).catch((error: unknown) => {
        failed = true;
        throw error;
      }),
    ),
  );
  const failure = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
  options.signal.throwIfAborted();

  const elapsedMs = performance.now() - started;
  return { count: latenciesMs.length, elapsedMs, opsPerSecond: latenciesMs.length / (elapsedMs / 1000), latenciesMs };
}
