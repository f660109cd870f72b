import { readdir, readFile } from 'node:fs/promises';

/** Clock ticks per second of /proc/<pid>/stat times: USER_HZ, 100 on every Linux we run on. */
const ticksPerSecond = 100;

interface ProcessSample {
  /** utime + stime + cutime + cstime: the process's own CPU and that of children it reaped. */
  cpuTicks: number;
  peakRssBytes: number;
}

async function sampleProcess(pid: number): Promise<ProcessSample | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuTicks = [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index]), 0);
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const peakKiB = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { cpuTicks, peakRssBytes: peakKiB * 1024 };
  } catch {
    return undefined; // it exited between the listing and the read
  }
}

async function childrenOf(pid: number): Promise<number[]> {
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  const lists = await Promise.all(tasks.map((task) => readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '')));
  return lists.flatMap((list) => list.split(' ').filter(Boolean).map(Number));
}

/**
 * One node's processes: the live tree under its root pid. Summing cutime+cstime of the live
 * processes counts a child that exited (curl) once, in its parent, and never twice.
 */
async function sampleTree(root: number): Promise<{ cpuTicks: number; peakRssBytes: number }> {
  let cpuTicks = 0;
  let peakRssBytes = 0;
  for (const queue = [root]; queue.length > 0; ) {
    const pid = queue.pop()!;
    const sample = await sampleProcess(pid);
    if (sample === undefined) continue;
    cpuTicks += sample.cpuTicks;
    peakRssBytes = Math.max(peakRssBytes, sample.peakRssBytes);
    queue.push(...(await childrenOf(pid)));
  }
  return { cpuTicks, peakRssBytes };
}

export interface NodeProcessUse {
  cpuSeconds: number;
  /** The largest VmHWM of any one of the node's processes. */
  peakRssBytes: number;
}

/**
 * Samples every node's process tree twice a second (peak RSS of short-lived processes) and gives
 * each node's CPU seconds between `mark()` (the start of the distribution) and `stop()`.
 */
export function startProcessSampler(rootPids: () => readonly number[], intervalMs = 500) {
  const peaks: number[] = [];
  let baseline: number[] = [];
  const sampleAll = async () => {
    const samples = await Promise.all(rootPids().map(sampleTree));
    samples.forEach((sample, node) => (peaks[node] = Math.max(peaks[node] ?? 0, sample.peakRssBytes)));
    return samples;
  };
  let pending: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    pending = sampleAll().catch(() => undefined);
  }, intervalMs);
  return {
    async mark(): Promise<void> {
      baseline = (await sampleAll()).map((sample) => sample.cpuTicks);
    },
    async stop(): Promise<NodeProcessUse[]> {
      clearInterval(timer);
      await pending;
      const final = await sampleAll();
      return final.map((sample, node) => ({ cpuSeconds: (sample.cpuTicks - (baseline[node] ?? 0)) / ticksPerSecond, peakRssBytes: peaks[node] ?? 0 }));
    },
  };
}
