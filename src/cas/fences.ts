import { createHash } from 'node:crypto';
import { mkdir, open, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { TorrentEdgeError } from '../errors.ts';

/**
 * The highest fencing token seen per lease resource, where the writes land (invariant 3). A worker
 * raises the fence when it takes a lease; materializing with a lower token is refused, so a worker
 * that lost its lease (a long GC pause, a partition) cannot place links after its replacement.
 *
 * A fence is a directory of empty files named by token: creating a file is atomic, so two
 * processes raising at once cannot lower it; the fence is the largest name.
 */
const tokenName = (token: number): string => String(token).padStart(16, '0');

function fenceDirectory(root: string, resource: string): string {
  return join(root, 'fences', createHash('sha256').update(resource).digest('hex'));
}

async function highest(directory: string): Promise<number> {
  const names = await readdir(directory).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  return names.reduce((max, name) => Math.max(max, /^\d{16}$/.test(name) ? Number(name) : 0), 0);
}

function staleToken(resource: string, token: number, current: number): TorrentEdgeError {
  return new TorrentEdgeError('TE_ERR_STALE_FENCING_TOKEN', `fencing token ${token} for ${resource} is below ${current}, which this CAS has seen`);
}

export async function raiseFence(root: string, resource: string, token: number): Promise<void> {
  const directory = fenceDirectory(root, resource);
  await mkdir(directory, { recursive: true });
  const current = await highest(directory);
  if (token < current) throw staleToken(resource, token, current);
  if (token > current) {
    const handle = await open(join(directory, tokenName(token)), 'a');
    await handle.sync();
    await handle.close();
    // Lower tokens are history; dropping them keeps the directory to a file or two.
    if (current > 0) await unlink(join(directory, tokenName(current))).catch(() => undefined);
  }
}

/** The highest token seen for `resource`, 0 when none. */
export async function fenceOf(root: string, resource: string): Promise<number> {
  return highest(fenceDirectory(root, resource));
}

export async function assertFence(root: string, resource: string, token: number): Promise<void> {
  const current = await highest(fenceDirectory(root, resource));
  if (token < current) throw staleToken(resource, token, current);
}
