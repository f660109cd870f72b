import { realpath } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { TorrentEdgeError } from '../errors.ts';

/** The deepest existing directory on the way to `path`, resolved (symlinks followed). */
async function nearestExisting(path: string): Promise<string> {
  for (let current = resolve(path); ; current = dirname(current)) {
    try {
      return await realpath(current);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(current) === current) throw error;
    }
  }
}

/**
 * A transfer's destination comes from whoever may write transfers; without a check, any writer
 * could have every node create links in /etc/profile.d. A node materializes only inside its own
 * artifact roots (TORRENTEDGE_ARTIFACT_ROOTS, by default <data-dir>/artifacts).
 */
export async function assertDestinationAllowed(destination: string, roots: readonly string[]): Promise<void> {
  const resolved = await nearestExisting(destination);
  for (const root of roots) {
    const realRoot = await nearestExisting(root);
    if (resolved === realRoot || resolved.startsWith(`${realRoot}${sep}`)) {
      // The part that does not exist yet may not climb back out.
      if (!resolve(destination).split(sep).includes('..')) return;
    }
  }
  throw new TorrentEdgeError('TE_ERR_FORBIDDEN', `destination ${destination} is outside this node's artifact roots (${roots.join(':') || 'none'})`);
}
