import { mkdir, realpath } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { planArtifact, type ArtifactShape, type PlannedFile } from './artifactPlan.ts';
import { buildObject } from './buildObject.ts';
import type { ObjectBuilder } from './objectBuilder.ts';
import { objectPath } from './casLayout.ts';
import type { ContentStore } from './contentStore.ts';
import { assertPinName, readPin, writePin } from './pins.ts';
import { inspectLinkTarget, placeLink, type LinkOutcome } from './placeLink.ts';
import { resolveInside } from './safePath.ts';
import { assertFence } from './fences.ts';

export interface MaterializeRequest extends ArtifactShape {
  /** A file path (layout 'file') or a directory (layout 'directory'); chosen by the caller, never by the manifest. */
  destination: string;
  /** 'file': destination is the symlink (one-file artifacts); 'directory': destination/<path> per file. Default: 'file' for one file. */
  layout?: 'file' | 'directory';
  /** Records the links under this pin: their objects survive GC while the links exist and point at them. */
  pin?: string;
  /** The lease the writer holds: links are placed only if no higher token was seen (fences.ts). */
  fence?: { resource: string; fencingToken: number };
  /** Objects already being written, one per file in order (objectBuilder.ts); the rest are built here. */
  builders?: readonly (ObjectBuilder | undefined)[];
}

export interface MaterializedFile {
  path: string;
  sha256: string;
  object: string;
  link: string;
  built: boolean;
  linkOutcome: LinkOutcome;
}

/**
 * Rebuilds each file as objects/<sha256> from verified chunks, then points destination links at
 * the objects. Order matters for "nothing materialized on failure": every target is checked
 * before any object is built, and links are placed only after every object verified. Writes go
 * to the store's root and below `destination` only; manifest paths are sanitized and every
 * directory on the way is checked not to be a symlink.
 */
export async function materialize(store: ContentStore, request: MaterializeRequest): Promise<MaterializedFile[]> {
  const files = planArtifact(request);
  const layout = request.layout ?? (files.length === 1 ? 'file' : 'directory');
  if (layout === 'file' && files.length !== 1) throw new RangeError(`layout 'file' needs a one-file artifact, this one has ${files.length}`);
  if (request.pin !== undefined) assertPinName(request.pin);

  const root = await prepareDestination(request.destination, layout);
  const targets = async (options: { createParents: boolean }): Promise<string[]> => {
    const paths: string[] = [];
    for (const file of files) paths.push(layout === 'file' ? root : await resolveInside(root, file.path, options));
    return paths;
  };
  const objects = files.map((file) => objectPath(store.layout, file.sha256));

  const planned = await targets({ createParents: false });
  for (const [index, target] of planned.entries()) await inspectLinkTarget(target, objects[index]!, store.layout.objects);

  const built: boolean[] = [];
  for (const [index, file] of files.entries()) built.push(await buildObject(store, request, file, request.builders?.[index]));

  // Checked last, right before the links: a replacement that raised the fence meanwhile wins.
  if (request.fence !== undefined) await assertFence(store.root, request.fence.resource, request.fence.fencingToken);
  const links = await targets({ createParents: true });
  if (request.pin !== undefined) await recordLinks(store, request.pin, files, links);
  const results: MaterializedFile[] = [];
  for (const [index, file] of files.entries()) {
    const outcome = await placeLink(links[index]!, objects[index]!, store.layout.objects);
    results.push({ path: file.path, sha256: file.sha256, object: objects[index]!, link: links[index]!, built: built[index]!, linkOutcome: outcome });
  }
  return results;
}

/**
 * The real path to resolve links under; for layout 'file', the link's own path in a real parent.
 * The destination and its parents are the caller's configuration, so they are created as given.
 */
async function prepareDestination(destination: string, layout: 'file' | 'directory'): Promise<string> {
  const absolute = resolve(destination);
  if (layout === 'directory') {
    await mkdir(absolute, { recursive: true });
    return realpath(absolute);
  }
  await mkdir(dirname(absolute), { recursive: true });
  return join(await realpath(dirname(absolute)), basename(absolute));
}

/** Written before the links: a crash in between leaves links unpinned, and materializing again pins them. */
async function recordLinks(store: ContentStore, name: string, files: readonly PlannedFile[], links: readonly string[]): Promise<void> {
  const existing = await readPin(store.layout, name);
  const fresh = files.map((file, index) => ({ path: links[index]!, object: file.sha256 }));
  const kept = (existing?.links ?? []).filter((link) => !links.includes(link.path));
  await writePin(store.layout, { name, chunks: existing?.chunks ?? [], objects: existing?.objects ?? [], links: [...kept, ...fresh] });
}
