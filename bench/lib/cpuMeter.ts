import { cpus } from 'node:os';

export interface CpuUse {
  /** Busy share of all the host's cores over the interval, 0–100. */
  hostBusyPercent: number;
  /** This process's CPU (user + system) over the interval, in percent of one core. */
  processPercent: number;
}

function hostTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.idle + times.irq;
    busy += all - times.idle;
    total += all;
  }
  return { busy, total };
}

/** Host and process CPU use from now until `stop()`: tells a CPU-bound phase from a waiting one. */
export function startCpuMeter(): { stop(): CpuUse } {
  const host = hostTimes();
  const process0 = process.cpuUsage();
  const started = performance.now();
  return {
    stop(): CpuUse {
      const hostNow = hostTimes();
      const usage = process.cpuUsage(process0);
      const elapsedUs = (performance.now() - started) * 1000;
      const totalDelta = hostNow.total - host.total;
      return {
        hostBusyPercent: totalDelta > 0 ? (100 * (hostNow.busy - host.busy)) / totalDelta : Number.NaN,
        processPercent: elapsedUs > 0 ? (100 * (usage.user + usage.system)) / elapsedUs : Number.NaN,
      };
    },
  };
}
