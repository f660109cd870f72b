import { cpus } from 'node:os';

function hostBusyMs(): number {
  let busy = 0;
  for (const { times } of cpus()) busy += times.user + times.nice + times.sys + times.irq;
  return busy;
}

/**
 * The host's busy CPU from now until `stop(ours)`, minus `ours` (the CPU seconds of the bench's
 * own processes over the same interval): how many cores something else kept busy. On a shared
 * machine this tells a slow run from a contended one.
 */
export function startHostLoad(): { stop(oursSeconds: number): { otherCores: number } } {
  const busy0 = hostBusyMs();
  const started = performance.now();
  return {
    stop(oursSeconds: number) {
      const elapsedS = (performance.now() - started) / 1000;
      const hostS = (hostBusyMs() - busy0) / 1000;
      return { otherCores: elapsedS > 0 ? Math.max(0, hostS - oursSeconds) / elapsedS : Number.NaN };
    },
  };
}

/**
 * Waits until the host has been idle for a second (other processes below `maxCores`), at most
 * `maxWaitMs`; returns the load of the last second it saw. A shared machine running a test
 * suite at the start of a transfer would otherwise decide its figures.
 */
export async function waitForQuietHost(options: { maxCores: number; maxWaitMs: number; signal: AbortSignal; log: (message: string) => void }): Promise<number> {
  const deadline = performance.now() + options.maxWaitMs;
  let logged = false;
  for (;;) {
    const load = startHostLoad();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    options.signal.throwIfAborted();
    const { otherCores } = load.stop(0);
    if (otherCores < options.maxCores || performance.now() > deadline) return otherCores;
    if (!logged) options.log(`waiting for the host to quieten (other processes use ${otherCores.toFixed(2)} cores)`);
    logged = true;
  }
}
