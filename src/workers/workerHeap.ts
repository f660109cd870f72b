/**
 * The V8 flags a worker process runs with.
 *
 * `--max-semi-space-size=4`: V8 sizes its young generation from the machine's memory, up to
 * 128 MiB on a 24 GiB host. A worker's live heap is small (20–30 MB) and its allocation limit grows
 * in steps smaller than that young generation, so V8 found the limit "reached" right after each
 * full collection and started the next one: 26–62 Mark-Compacts per worker for a 128 MiB artifact,
 * most of them started by V8's marking task rather than by allocation. With a 4 MiB semi-space (an
 * 8 MiB young generation) a worker ran 4–26, its socket reads' buffers died young and were freed at
 * once, peak worker RSS fell from 278–304 to 227–236 MiB in the fleet bench, and the leecher of the
 * pair bench used about 35% less user CPU (docs/benchmarks.md, 2026-12-04).
 *
 * `--heap-growing-percent=100`: after a full collection V8 lets the old generation grow by a
 * factor it picks from how much time collecting took, and a worker collects little, so the factor
 * stayed near its floor: the limit sat 4–8 MB above 28–32 MB live, and each "GC in old space
 * requested" freed 2–8 MB (--trace-gc). Growing to twice the live size, a fleet worker ran 5 full
 * collections for 128 MiB instead of 8–13, at 32.3–34.3 CPU s/GiB instead of 34.7–37.7 (three
 * interleaved pairs), with no more RSS.
 *
 * Both are fixed when the heap is set up, so they must be on node's command line (the first may
 * be in NODE_OPTIONS too; node refuses the second there): `bin/torrentedge worker` and every
 * process this project spawns as a worker pass them.
 */
export const workerNodeFlags: readonly string[] = ['--max-semi-space-size=4', '--heap-growing-percent=100'];

/** `--max_semi_space_size=4` → `max-semi-space-size`: V8 takes either spelling. */
const optionName = (flag: string): string => flag.replace(/^--/, '').split('=')[0]!.replaceAll('_', '-');

/**
 * The worker flags whose option this process was not started with, on node's command line or in
 * NODE_OPTIONS (where node allows it there). A value of its own counts as given (an operator's
 * choice), except 0, which is V8's own sizing.
 */
export function missingWorkerFlags(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env.NODE_OPTIONS ?? ''): string[] {
  const given = new Map<string, string>();
  const fromEnvironment = nodeOptions.split(/\s+/).filter((arg) => process.allowedNodeEnvironmentFlags.has(arg.split('=')[0]!));
  for (const arg of [...fromEnvironment, ...execArgv]) {
    if (!arg.startsWith('--')) continue;
    given.set(optionName(arg), arg.split('=')[1] ?? '');
  }
  return workerNodeFlags.filter((flag) => {
    const value = given.get(optionName(flag));
    return value === undefined || value === '0';
  });
}
