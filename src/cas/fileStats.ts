import { stat, utimes } from 'node:fs/promises';

/** The size of a regular file, or undefined when there is none at `path`. */
export async function fileSize(path: string): Promise<number | undefined> {
  try {
    const stats = await stat(path);
    return stats.isFile() ? stats.size : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Content-addressed files never change, so their mtime is free to record "last claimed" (put
 * again, reused by materialize); garbage collection removes the least recently claimed first.
 */
export async function touch(path: string): Promise<void> {
  const now = new Date();
  await utimes(path, now, now);
}
