import { readFile, readdir, readlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from './atomicWrite.ts';
import { objectPath, type CasLayout } from './casLayout.ts';
import { assertSha256Hex } from './digest.ts';

/**
 * A pin keeps content from garbage collection. `chunks` and `objects` are pinned for as long as
 * the pin exists. `links` are recorded by materialize(pin): such an object is pinned only while
 * its symlink still exists and points at it, so deleting a materialized destination releases it.
 */
export interface PinRefs {
  chunks: readonly string[];
  objects: readonly string[];
}

export interface PinLink {
  path: string;
  object: string;
}

export interface PinRecord {
  name: string;
  chunks: string[];
  objects: string[];
  links: PinLink[];
}

/** Pin names become file names under pins/: 'transfer-<id>', 'job-<id>.<node>'. */
const pinNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function assertPinName(name: string): void {
  if (!pinNamePattern.test(name)) throw new TypeError(`pin name must match ${pinNamePattern.source}, got ${JSON.stringify(name)}`);
}

function pinPath(layout: CasLayout, name: string): string {
  return join(layout.pins, `${name}.json`);
}

export async function writePin(layout: CasLayout, record: PinRecord): Promise<void> {
  assertPinName(record.name);
  for (const digest of [...record.chunks, ...record.objects, ...record.links.map((link) => link.object)]) assertSha256Hex(digest);
  const bytes = Buffer.from(JSON.stringify(record));
  await writeFileAtomically(layout.tmp, pinPath(layout, record.name), layout.pins, bytes);
}

export async function readPin(layout: CasLayout, name: string): Promise<PinRecord | undefined> {
  assertPinName(name);
  const text = await readFile(pinPath(layout, name), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  // A pin that does not parse throws: collecting as if it were absent could delete pinned content.
  return text === undefined ? undefined : (JSON.parse(text) as PinRecord);
}

/** Returns whether a pin was removed. */
export async function removePin(layout: CasLayout, name: string): Promise<boolean> {
  assertPinName(name);
  try {
    await unlink(pinPath(layout, name));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

export interface PinnedSet {
  chunks: Set<string>;
  objects: Set<string>;
}

/** Everything pinned now: explicit refs, plus objects behind links that are still live. */
export async function pinnedSet(layout: CasLayout): Promise<PinnedSet> {
  const pinned: PinnedSet = { chunks: new Set(), objects: new Set() };
  for (const file of await readdir(layout.pins)) {
    const name = file.slice(0, -'.json'.length);
    if (!file.endsWith('.json') || !pinNamePattern.test(name)) continue;
    const record = await readPin(layout, name);
    if (record === undefined) continue;
    for (const chunk of record.chunks) pinned.chunks.add(chunk);
    for (const object of record.objects) pinned.objects.add(object);
    for (const link of record.links) {
      const target = await readlink(link.path).catch(() => undefined);
      if (target === objectPath(layout, link.object)) pinned.objects.add(link.object);
    }
  }
  return pinned;
}
