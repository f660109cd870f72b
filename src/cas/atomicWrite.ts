import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, link, open, readdir, rename, rm, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Crash-safe publication: bytes go to a unique file in tmp/, are fsynced, renamed into place
 * (atomic within one filesystem) and the target directory is fsynced so the rename survives a
 * power cut. A reader sees the whole file or none of it; a crash leaves only a tmp file.
 */

/** Published content is read-only: a write through a materialized symlink must not alter shared bytes. */
const publishedMode = 0o444;

export interface TempFile {
  readonly path: string;
  readonly handle: FileHandle;
}

/**
 * tmp names carry the writer's pid so that opening a store spares the files of a live writer.
 * Open for reading too (the mode applies only to later opens): a file being built is read back.
 */
export async function createTempFile(tmpDirectory: string): Promise<TempFile> {
  const path = join(tmpDirectory, `${process.pid}.${randomBytes(8).toString('hex')}.tmp`);
  return { path, handle: await open(path, 'wx+', publishedMode) };
}

/** A file written in place over a long time and across restarts (a download's file under partial/): made writable, and kept if it exists. */
export async function openKeptFile(path: string): Promise<TempFile> {
  const flags = constants.O_RDWR | constants.O_CREAT;
  const handle = await open(path, flags, 0o644).catch(async (error: NodeJS.ErrnoException) => {
    // Made read-only on its way to objects/ when a crash came before the link: it is still ours.
    if (error.code !== 'EACCES') throw error;
    await chmod(path, 0o644);
    return open(path, flags, 0o644);
  });
  return { path, handle };
}

/**
 * As publishTempFile, but the file stays where it was until it is in place: it is linked to
 * `target`, and only then unlinked by the caller. Readers that found the file by its old path
 * (chunks held in a file being published, heldChunks.ts) never meet a moment when neither path
 * exists. Throws EEXIST when `target` exists already, leaving `temp` as it was, but closed.
 */
export async function linkKeptFile(temp: TempFile, target: string, targetDirectory: string): Promise<void> {
  try {
    await temp.handle.chmod(publishedMode);
    await temp.handle.sync();
  } finally {
    await temp.handle.close();
  }
  await link(temp.path, target);
  await fsyncDirectory(targetDirectory);
}

/** fsyncs and closes `temp`, then renames it to `target` and fsyncs the target's directory. */
export async function publishTempFile(temp: TempFile, target: string, targetDirectory: string): Promise<void> {
  try {
    await temp.handle.sync();
  } finally {
    await temp.handle.close();
  }
  await rename(temp.path, target);
  await fsyncDirectory(targetDirectory);
}

export async function discardTempFile(temp: TempFile): Promise<void> {
  await temp.handle.close().catch(() => undefined);
  await unlink(temp.path).catch(() => undefined);
}

export async function writeFileAtomically(tmpDirectory: string, target: string, targetDirectory: string, bytes: Uint8Array): Promise<void> {
  const temp = await createTempFile(tmpDirectory);
  try {
    await temp.handle.writeFile(bytes);
  } catch (error) {
    await discardTempFile(temp);
    throw error;
  }
  await publishTempFile(temp, target, targetDirectory);
}

export async function fsyncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Removes what crashed writers left in tmp/: files of dead pids, of our own pid (a restarted
 * container often gets the same pid again, and this store has written nothing yet) and anything
 * not named by createTempFile. Files of another live process are kept: it may still publish them.
 */
export async function removeStaleTempFiles(tmpDirectory: string): Promise<number> {
  let removed = 0;
  for (const name of await readdir(tmpDirectory)) {
    const pid = /^(\d+)\.[0-9a-f]+\.tmp$/.exec(name)?.[1];
    if (pid !== undefined && Number(pid) !== process.pid && isProcessAlive(Number(pid))) continue;
    await rm(join(tmpDirectory, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
