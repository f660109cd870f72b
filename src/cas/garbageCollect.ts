import { lstat, readdir, rm, unlink } from 'node:fs/promises';
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
  /** Files of jobs that ended while the node was down, or were drained and never came back (partial/<key>). */
  removedPartials: { name: string; bytes: number }[];
}

/** What the store knows of chunks held inside objects (heldChunks.ts). */
export interface HeldChunksView {
  /** The paths of the objects that hold any of these chunks: a pinned chunk keeps its object. */
  objectsHolding(chunks: Iterable<string>): Set<string>;
  /** Called after an object was removed, so its chunk map goes with it. */
  onObjectRemoved(path: string, sha256: string): Promise<void>;
  /** Keys of partial/ that a job of this process is using: never collected. */
  partialsInUse(): ReadonlySet<string>;
}

interface Entry {
  kind: RemovedEntry['kind'] | 'partial';
  /** The digest, or a partial directory's name. */
  id: string;
  bytes: number;
  path: string;
  lastUsedMs: number;
}

/**
 * Removes unpinned chunks and objects, least recently used first (the later of atime, which the
 * mount may not keep, and mtime, which the store sets whenever content is claimed again). Pins
 * are read once at the start: content an active transfer still needs must be pinned before GC
 * runs. Usage counts file sizes, not blocks, and holds one small record per entry in memory.
 */
export async function garbageCollect(layout: CasLayout, options: GarbageCollectOptions, held?: HeldChunksView): Promise<GarbageCollectResult> {
  const { highWatermarkBytes: high, lowWatermarkBytes: low } = options;
  if (!(Number.isFinite(high) && Number.isFinite(low) && low >= 0 && low <= high)) {
    throw new RangeError(`watermarks must satisfy 0 <= low <= high, got low ${low}, high ${high}`);
  }
  const entries = [
    ...(await listEntries(layout.chunks, 'chunk')),
    ...(await listEntries(layout.objects, 'object')),
    ...(await listPartials(layout.partial, held?.partialsInUse() ?? new Set())),
  ];
  const usedBytesBefore = entries.reduce((sum, entry) => sum + entry.bytes, 0);
  const removed: RemovedEntry[] = [];
  const removedPartials: GarbageCollectResult['removedPartials'] = [];
  let used = usedBytesBefore;
  if (used > high) {
    const pinned = await pinnedSet(layout);
    const holding = held?.objectsHolding(pinned.chunks) ?? new Set<string>();
    const candidates = entries
      .filter((entry) => entry.kind === 'partial' || (!(entry.kind === 'chunk' ? pinned.chunks : pinned.objects).has(entry.id) && !holding.has(entry.path)))
      .sort((a, b) => a.lastUsedMs - b.lastUsedMs || a.kind.localeCompare(b.kind) || a.id.localeCompare(b.id));
    for (const entry of candidates) {
      if (used <= low) break;
      used -= entry.bytes;
      if (entry.kind === 'partial') {
        await rm(entry.path, { recursive: true, force: true });
        removedPartials.push({ name: entry.id, bytes: entry.bytes });
        continue;
      }
      await unlink(entry.path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      if (entry.kind === 'object') await held?.onObjectRemoved(entry.path, entry.id);
      removed.push({ kind: entry.kind, sha256: entry.id, bytes: entry.bytes });
    }
  }
  return { usedBytesBefore, usedBytesAfter: used, removed, removedPartials };
}

/** Each directory under partial/ as one entry: its files' bytes, last used when its newest file changed. */
async function listPartials(top: string, inUse: ReadonlySet<string>): Promise<Entry[]> {
  const entries: Entry[] = [];
  for (const directory of await readdir(top, { withFileTypes: true }).catch(() => [])) {
    if (!directory.isDirectory() || inUse.has(directory.name)) continue;
    const path = join(top, directory.name);
    let bytes = 0;
    let lastUsedMs = 0;
    for (const name of await readdir(path).catch(() => [] as string[])) {
      const stats = await lstat(join(path, name)).catch(() => undefined);
      if (stats === undefined) continue;
      bytes += stats.size;
      lastUsedMs = Math.max(lastUsedMs, stats.mtimeMs);
    }
    entries.push({ kind: 'partial', id: directory.name, bytes, path, lastUsedMs });
  }
  return entries;
}

async function listEntries(top: string, kind: RemovedEntry['kind']): Promise<Entry[]> {
  const entries: Entry[] = [];
  for (const fanOut of await readdir(top, { withFileTypes: true })) {
    if (!fanOut.isDirectory()) continue;
    for (const name of await readdir(join(top, fanOut.name))) {
      if (!/^[0-9a-f]{64}$/.test(name)) continue;
      const path = join(top, fanOut.name, name);
      const stats = await lstat(path).catch(() => undefined);
      if (stats === undefined || !stats.isFile()) continue;
      entries.push({ kind, id: name, bytes: stats.size, path, lastUsedMs: Math.max(stats.atimeMs, stats.mtimeMs) });
    }
  }
  return entries;
}
