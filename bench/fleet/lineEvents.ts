import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** Calls `onLine` with each stdout line of `child` and the performance.now() it arrived at. */
export function onLines(child: ChildProcess, onLine: (line: string, at: number) => void): void {
  createInterface({ input: child.stdout! }).on('line', (line) => onLine(line, performance.now()));
}

/**
 * Completion times of per-node children that print `done` (or `failed`) once their copy is
 * complete: seconds from `started`; undefined for a node that failed, exited, or was still
 * running at `deadline`.
 */
export async function waitForDoneLines(children: readonly ChildProcess[], started: number, deadline: number, signal: AbortSignal): Promise<Array<number | undefined>> {
  const times: Array<number | undefined> = children.map(() => undefined);
  const settled = new Set<number>();
  let wake: () => void = () => undefined;
  const settle = (i: number, seconds: number | undefined): void => {
    if (settled.has(i)) return;
    settled.add(i);
    times[i] = seconds;
    wake();
  };
  children.forEach((child, i) => {
    onLines(child, (line, at) => {
      if (line === 'done') settle(i, (at - started) / 1000);
      else if (line === 'failed') settle(i, undefined);
    });
    child.once('exit', () => settle(i, undefined));
  });
  while (settled.size < children.length && !signal.aborted && performance.now() < deadline) {
    await new Promise<void>((resolve) => {
      wake = resolve;
      setTimeout(resolve, Math.max(0, Math.min(1000, deadline - performance.now())));
    });
  }
  signal.throwIfAborted();
  return times;
}
