import { lstat, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { CasLayout } from './casLayout.ts';
import { pinnedSet } from './pins.ts';

export interface GarbageCollectOptions {
  /** Collect only when chunks and objects together use more than this. */
  highWatermarkBytes: number;
  /** Then remove unpinned entries until they use this much or less. */
  lowWatermarkBytes: number;
}

export interface RemovedEntry {
  kind: 'chunk' | 'object';
  sha256: string;
  bytes: number;
}

export interface GarbageCollectResult {
  usedBytesBefore: number;
  usedBytesAfter: number;
  removed: RemovedEntry[];
}

interface Entry extends RemovedEntry {
  path: string;
  lastUsedMs: number;
}

/**
 * Removes unpinned chunks and objects, least recently used first (the later of atime, which the
 * mount may not keep, and mtime, which the store sets whenever content is claimed again). Pins
 * are read once at the start: content an active transfer still needs must be pinned before GC
 * runs. Usage counts file sizes, not blocks, and holds one small record per entry in memory.
 */
export async function garbageCollect(layout: CasLayout, options: GarbageCollectOptions): Promise<GarbageCollectResult> {
  const { highWatermarkBytes: high, lowWatermarkBytes: low } = options;
  if (!(Number.isFinite(high) && Number.isFinite(low) && low >= 0 && low <= high)) {
    throw new RangeError(`watermarks must satisfy 0 <= low <= high, got low ${low}, high ${high}`);
  }
  const entries = [...(await listEntries(layout.chunks, 'chunk')), ...(await listEntries(layout.objects, 'object'))];
  const usedBytesBefore = entries.reduce((sum, entry) => sum + entry.bytes, 0);
  const removed: RemovedEntry[] = [];
  let used = usedBytesBefore;
  if (used > high) {
    const pinned = await pinnedSet(layout);
    const candidates = entries
      .filter((entry) => !(entry.kind === 'chunk' ? pinned.chunks : pinned.objects).has(entry.sha256))
      .sort((a, b) => a.lastUsedMs - b.lastUsedMs || a.kind.localeCompare(b.kind) || a.sha256.localeCompare(b.sha256));
    for (const entry of candidates) {
      if (used <= low) break;
      await unlink(entry.path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      used -= entry.bytes;
      removed.push({ kind: entry.kind, sha256: entry.sha256, bytes: entry.bytes });
    }
  }
  return { usedBytesBefore, usedBytesAfter: used, removed };
}

async function listEntries(top: string, kind: Entry['kind']): Promise<Entry[]> {
  const entries: Entry[] = [];
  for (const fanOut of await readdir(top, { withFileTypes: true })) {
    if (!fanOut.isDirectory()) continue;
    for (const name of await readdir(join(top, fanOut.name))) {
      if (!/^[0-9a-f]{64}$/.test(name)) continue;
      const path = join(top, fanOut.name, name);
      const stats = await lstat(path).catch(() => undefined);
      if (stats === undefined || !stats.isFile()) continue;
      entries.push({ kind, sha256: name, bytes: stats.size, path, lastUsedMs: Math.max(stats.atimeMs, stats.mtimeMs) });
    }
  }
  return entries;
}
