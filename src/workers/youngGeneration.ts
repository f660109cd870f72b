/**
 * The V8 flags a worker process runs with.
 *
 * V8 sizes its young generation from the machine's memory: up to 128 MiB on a 24 GiB host. A
 * worker's live heap is small (20–30 MB) and its allocation limit grows in steps smaller than
 * that young generation, so V8 found the limit "reached" right after each full collection and
 * started the next one: 26–62 Mark-Compacts per worker for a 128 MiB artifact, most of them
 * started by V8's marking task rather than by allocation. With a 4 MiB semi-space (an 8 MiB
 * young generation) a worker ran 4–26, its socket reads' buffers died young and were freed at
 * once, peak worker RSS fell from 278–304 to 227–236 MiB in the fleet bench, and the leecher of
 * the pair bench used about 35% less user CPU (docs/benchmarks.md, 2026-12-04).
 *
 * The semi-space is fixed when the heap is set up, so the flag must be on node's command line
 * (or in NODE_OPTIONS): `bin/torrentedge worker` and every process this project spawns as a
 * worker pass it.
 */
export const workerNodeFlags: readonly string[] = ['--max-semi-space-size=4'];

/**
 * The semi-space cap in MiB this process was started with, from node's own arguments or
 * NODE_OPTIONS (the command line wins, as in node), or undefined when V8 picks it (no flag, or 0).
 */
export function semiSpaceCapMiB(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env.NODE_OPTIONS ?? ''): number | undefined {
  let cap: number | undefined;
  for (const arg of [...nodeOptions.split(/\s+/), ...execArgv]) {
    const match = /^--max[-_]semi[-_]space[-_]size=(\d+)$/.exec(arg);
    if (match !== null) cap = Number(match[1]);
  }
  // 0 is V8's own sizing.
  return cap === 0 ? undefined : cap;
}
