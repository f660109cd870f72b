import { dirname } from 'node:path';
import { discardTempFile, publishTempFile } from './atomicWrite.ts';
import { FileDigestMismatchError } from './casErrors.ts';
import { objectPath } from './casLayout.ts';
import type { ContentStore } from './contentStore.ts';
import { fileSize, touch } from './fileStats.ts';
import type { ArtifactShape, PlannedFile } from './artifactPlan.ts';
import { ObjectBuilder } from './objectBuilder.ts';

/**
 * objects/<sha256> for one file, streamed out of the chunks into tmp/ and hashed on the way
 * (by the job's ObjectBuilder while it downloaded, or by one started now); published only if the
 * whole-file digest matches. An object that is already there (the same
 * file in another transfer) is reused, not rebuilt. Returns whether it was built.
 */
export async function buildObject(store: ContentStore, shape: ArtifactShape, file: PlannedFile, prepared?: ObjectBuilder): Promise<boolean> {
  const target = objectPath(store.layout, file.sha256);
  if ((await fileSize(target)) !== undefined) {
    await prepared?.discard();
    await touch(target);
    return false;
  }
  // Written and hashed while the pieces arrived (objectBuilder.ts), or from the chunks now if it could not be.
  const built = (await prepared?.finish(shape.pieceSha256)) ?? (await new ObjectBuilder(store, shape.pieceLength, file).build(shape.pieceSha256));
  if (built.sha256 !== file.sha256) {
    store.countVerifyFailure('object');
    await discardTempFile(built.temp);
    throw new FileDigestMismatchError(file.path, file.sha256, built.sha256);
  }
  await publishTempFile(built.temp, target, dirname(target));
  return true;
}
