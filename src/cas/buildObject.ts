import { unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { discardTempFile, linkKeptFile, publishTempFile, type TempFile } from './atomicWrite.ts';
import { FileDigestMismatchError } from './casErrors.ts';
import { objectPath } from './casLayout.ts';
import type { ContentStore } from './contentStore.ts';
import { fileSize, touch } from './fileStats.ts';
import { writeChunkMap } from './heldChunks.ts';
import type { ArtifactShape, PlannedFile } from './artifactPlan.ts';
import { ObjectBuilder } from './objectBuilder.ts';

/**
 * objects/<sha256> for one file, written and hashed by the job's ObjectBuilder while it
 * downloaded, or streamed out of the chunks now by one started here; published only if the
 * whole-file digest matches. An object that is already there (the same file in another
 * transfer) is reused, not rebuilt. Returns whether it was built.
 */
export async function buildObject(store: ContentStore, shape: ArtifactShape, file: PlannedFile, prepared?: ObjectBuilder): Promise<boolean> {
  const target = objectPath(store.layout, file.sha256);
  if ((await fileSize(target)) !== undefined) {
    if (prepared?.path !== undefined) await adoptHeldChunks(store, prepared.path, file.sha256);
    await prepared?.discard();
    await touch(target);
    return false;
  }
  const ready = await prepared?.finish(shape.pieceSha256);
  const built = ready ?? (await new ObjectBuilder(store, shape.pieceLength, file).build(shape.pieceSha256));
  if (built.sha256 !== file.sha256) {
    store.countVerifyFailure('object');
    store.releaseHeld(built.temp.path);
    await discardTempFile(built.temp);
    throw new FileDigestMismatchError(file.path, file.sha256, built.sha256);
  }
  try {
    if (ready !== undefined && prepared?.path !== undefined) await publishKeptFile(store, built.temp, file.sha256);
    else await publishTempFile(built.temp, target, dirname(target));
  } catch (error) {
    if (ready !== undefined) await prepared?.abandon();
    else await discardTempFile(built.temp);
    throw error;
  }
  // Built from the chunks after the job's builder failed: what its file holds is in the object too.
  if (ready === undefined && prepared?.path !== undefined) await adoptHeldChunks(store, prepared.path, file.sha256);
  return true;
}

/**
 * A job's kept file becomes the object with its chunk map written first, so the chunks it holds
 * are found in it after a restart, and linked before its old name goes, so a peer reading one of
 * them meanwhile finds them under one name or the other.
 */
async function publishKeptFile(store: ContentStore, temp: TempFile, sha256: string): Promise<void> {
  const target = objectPath(store.layout, sha256);
  const held = store.heldBy(temp.path);
  if (held.length > 0) await writeChunkMap(store.layout, sha256, held);
  try {
    await linkKeptFile(temp, target, dirname(target));
  } catch (error) {
    // Published by another job since the check: the same bytes, so its chunks are there too.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    await adoptHeldChunks(store, temp.path, sha256);
    await unlink(temp.path).catch(() => undefined);
    return;
  }
  store.moveHeld(temp.path, target);
  await unlink(temp.path);
}

/** The object exists already with the same bytes: chunks held in `path` are found at the same offsets in it. */
async function adoptHeldChunks(store: ContentStore, path: string, sha256: string): Promise<void> {
  const target = objectPath(store.layout, sha256);
  const held = store.heldBy(path);
  if (held.length === 0) return;
  const known = new Set(store.heldBy(target).map((chunk) => chunk.sha256));
  await writeChunkMap(store.layout, sha256, [...store.heldBy(target), ...held.filter((chunk) => !known.has(chunk.sha256))]);
  store.moveHeld(path, target);
}
