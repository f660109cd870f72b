/**
 * An open-loop load generator: operation `i` is issued at `start + i / rate`, whether or not the
 * earlier ones have resolved, so a slow operation does not lower the offered rate (a closed loop
 * would hide queueing behind fewer requests). At most `maxInFlight` run at once; past that the
 * schedule slips, which `maxSlipMs` shows. Resolves once every issued operation has settled.
 */
export interface OpenLoopOptions {
  /** Operations per second. */
  rate: number;
  seconds: number;
  signal: AbortSignal;
  maxInFlight?: number;
}

export interface OpenLoopResult {
  count: number;
  /** From the first issue to the last issue. */
  issueMs: number;
  /** count over issueMs: the rate actually offered. */
  achievedRate: number;
  /** The worst lateness of an issue behind its scheduled time (timer granularity, a blocked loop, the in-flight cap). */
  maxSlipMs: number;
  maxInFlightSeen: number;
}

export async function runOpenLoop(options: OpenLoopOptions, operation: (index: number) => Promise<void>): Promise<OpenLoopResult> {
  const total = Math.max(1, Math.round(options.rate * options.seconds));
  const intervalMs = 1000 / options.rate;
  const maxInFlight = options.maxInFlight ?? 256;
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let maxSlipMs = 0;
  let maxInFlightSeen = 0;
  let issued = 0;
  let lastIssueAt = 0;
  let started = 0;

  const issue = (index: number, now: number) => {
    maxSlipMs = Math.max(maxSlipMs, now - (started + index * intervalMs));
    lastIssueAt = now;
    const running: Promise<void> = operation(index)
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => inFlight.delete(running));
    inFlight.add(running);
    maxInFlightSeen = Math.max(maxInFlightSeen, inFlight.size);
  };

  started = performance.now();
  while (issued < total && failure === undefined && !options.signal.aborted) {
    const now = performance.now();
    const due = Math.min(total, Math.floor((now - started) / intervalMs) + 1);
    while (issued < due && inFlight.size < maxInFlight) issue(issued++, now);
    if (issued < due) {
      await Promise.race(inFlight); // at the cap: wait for a slot
      continue;
    }
    if (issued < total) {
      const wait = started + issued * intervalMs - performance.now();
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
    }
  }
  await Promise.allSettled([...inFlight]);
  if (failure !== undefined) throw failure.error;
  options.signal.throwIfAborted();
  const issueMs = lastIssueAt - started;
  return { count: issued, issueMs, achievedRate: issueMs > 0 ? (issued - 1) / (issueMs / 1000) : issued, maxSlipMs, maxInFlightSeen };
}
