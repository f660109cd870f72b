import { randomBytes } from 'node:crypto';
import { lstat, readlink, rename, symlink, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fsyncDirectory } from './atomicWrite.ts';
import { MaterializeConflictError } from './casErrors.ts';

export type LinkState = 'missing' | 'current' | 'stale';
export type LinkOutcome = 'created' | 'replaced' | 'unchanged';

/**
 * What is at `target` now. Only a missing entry, or a symlink into this store's objects/ (an
 * earlier materialization, maybe of another version), may be (re)placed; anything else — a
 * real file, a directory, a symlink to elsewhere — is someone else's and throws.
 */
export async function inspectLinkTarget(target: string, object: string, objectsDirectory: string): Promise<LinkState> {
  const stats = await lstat(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (stats === undefined) return 'missing';
  if (!stats.isSymbolicLink()) throw new MaterializeConflictError(target, 'something that is not a symlink is already there');
  const current = await readlink(target);
  if (current === object) return 'current';
  if (dirname(dirname(current)) === objectsDirectory && /^[0-9a-f]{64}$/.test(basename(current))) return 'stale';
  throw new MaterializeConflictError(target, `a symlink to ${current}, outside this content store, is already there`);
}

/**
 * Points `target` at `object`. A new link is one symlink(2); replacing one goes through a
 * temporary link in the same directory and rename(2), so readers see the old or the new file.
 * The link itself is replaced, never written through.
 */
export async function placeLink(target: string, object: string, objectsDirectory: string): Promise<LinkOutcome> {
  const state = await inspectLinkTarget(target, object, objectsDirectory);
  if (state === 'current') return 'unchanged';
  if (state === 'missing') {
    try {
      await symlink(object, target);
    } catch (error) {
      // Someone created it since we looked: decide again on what is there now.
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return placeLink(target, object, objectsDirectory);
      throw error;
    }
  } else {
    const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tedge-link`);
    await symlink(object, temporary);
    await rename(temporary, target).catch(async (error: unknown) => {
      await unlink(temporary).catch(() => undefined);
      throw error;
    });
  }
  await fsyncDirectory(dirname(target));
  return state === 'missing' ? 'created' : 'replaced';
}
