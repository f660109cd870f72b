import { readFile, rm, writeFile } from 'node:fs/promises';

const lockPath = '/run/torrentedge-fleet.pid';

/**
 * One fleet run per machine: a run starts by removing every `tef-*` namespace left behind, which
 * would tear down a run in progress. The lock holds the pid; a stale one (dead pid) is taken over.
 */
export async function takeRunLock(): Promise<() => Promise<void>> {
  const holder = Number(await readFile(lockPath, 'utf8').catch(() => 'NaN'));
  if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) throw new Error(`another fleet run (pid ${holder}) holds ${lockPath}`);
  await writeFile(lockPath, String(process.pid));
  return () => rm(lockPath, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
