import { open, readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, sep, basename } from 'node:path';
import type { FileHandle } from 'node:fs/promises';
import { artifactPathProblem } from '../commands/artifactPath.ts';
import { TorrentEdgeError } from '../errors.ts';
import type { ArtifactFile } from '../events/transferEvents.ts';
import type { Origin } from './origin.ts';

/**
 * A push names a path on this node; any writer could name /etc/shadow. Only paths that resolve
 * (symlinks followed) inside a configured push root may be read.
 */
async function assertAllowed(path: string, roots: readonly string[]): Promise<void> {
  const real = await realpath(path).catch(() => {
    throw new TorrentEdgeError('TE_ERR_NOT_FOUND', `${path} does not exist on this node`);
  });
  for (const root of roots) {
    const realRoot = await realpath(root).catch(() => undefined);
    if (realRoot !== undefined && (real === realRoot || real.startsWith(`${realRoot}${sep}`))) return;
  }
  throw new TorrentEdgeError('TE_ERR_FORBIDDEN', `${path} is outside this node's push roots (TORRENTEDGE_PUSH_ROOTS: ${roots.join(':') || 'none'})`);
}

async function listFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (directory: string): Promise<void> => {
    const entries = await readdir(directory, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) found.push(path);
      // Symlinks and special files are skipped: a push sends what is in the tree, nothing it points at.
    }
  };
  await walk(root);
  return found;
}

/**
 * A local file or directory tree (`torrentedge push PATH`). A directory's files are listed in
 * byte order of their relative paths, so the same tree always gives the same manifest.
 */
export function createFileOrigin(path: string, options: { allowedRoots: readonly string[] }): Origin {
  let absolute: string[] = [];
  const handles = new Map<number, FileHandle>();
  let closed = false;
  return {
    async describe() {
      await assertAllowed(path, options.allowedRoots);
      const info = await stat(path);
      absolute = info.isDirectory() ? await listFiles(path) : [path];
      if (absolute.length === 0) throw new TorrentEdgeError('TE_ERR_VALIDATION', `${path} holds no files`);
      const files: ArtifactFile[] = [];
      for (const file of absolute) {
        const relativePath = info.isDirectory() ? relative(path, file).split(sep).join('/') : basename(file);
        const problem = artifactPathProblem(relativePath);
        if (problem !== undefined) throw new TorrentEdgeError('TE_ERR_VALIDATION', `cannot push ${file}: its path ${problem}`);
        const { size, mtimeMs } = await stat(file);
        // Size and modification time: a file rewritten between two runs of the seed gives another layout.
        files.push({ path: relativePath, length: size, version: `${size}-${Math.trunc(mtimeMs)}` });
      }
      return { files };
    },
    async read(fileIndex, offset, length) {
      if (closed) throw new TorrentEdgeError('TE_ERR_UNAVAILABLE', `the push origin ${path} is closed`);
      let handle = handles.get(fileIndex);
      if (handle === undefined) {
        handle = await open(absolute[fileIndex]!, 'r');
        handles.set(fileIndex, handle);
      }
      const buffer = Buffer.allocUnsafe(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(buffer, filled, length - filled, offset + filled);
        if (bytesRead === 0) throw new TorrentEdgeError('TE_ERR_UNAVAILABLE', `${absolute[fileIndex]} shrank while being pushed`);
        filled += bytesRead;
      }
      return buffer;
    },
    async close() {
      closed = true;
      await Promise.all([...handles.values()].map((handle) => handle.close()));
      handles.clear();
    },
  };
}
