import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import { createTempFile, discardTempFile, publishTempFile } from './atomicWrite.ts';
import { FileDigestMismatchError } from './casErrors.ts';
import { objectPath } from './casLayout.ts';
import type { ContentStore } from './contentStore.ts';
import { fileSize, touch } from './fileStats.ts';
import type { ArtifactShape, PlannedFile } from './artifactPlan.ts';
import type { ObjectBuilder } from './objectBuilder.ts';
import { artifactBytes } from './readRange.ts';

/**
 * objects/<sha256> for one file, streamed out of the chunks into tmp/ and hashed on the way;
 * published only if the whole-file digest matches. An object that is already there (the same
 * file in another transfer) is reused, not rebuilt. Returns whether it was built.
 */
export async function buildObject(store: ContentStore, shape: ArtifactShape, file: PlannedFile, prepared?: ObjectBuilder): Promise<boolean> {
  const target = objectPath(store.layout, file.sha256);
  if ((await fileSize(target)) !== undefined) {
    await prepared?.discard();
    await touch(target);
    return false;
  }
  // Written and hashed while the pieces arrived (objectBuilder.ts); built here if it could not be.
  const built = await prepared?.finish(shape.pieceSha256);
  if (built !== undefined) {
    if (built.sha256 !== file.sha256) {
      store.countVerifyFailure('object');
      await discardTempFile(built.temp);
      throw new FileDigestMismatchError(file.path, file.sha256, built.sha256);
    }
    await publishTempFile(built.temp, target, dirname(target));
    return true;
  }
  const temp = await createTempFile(store.layout.tmp);
  try {
    const hash = createHash('sha256');
    let written = 0;
    for await (const block of artifactBytes(store.layout, shape.pieceSha256, shape.pieceLength, file.start, file.length)) {
      hash.update(block);
      for (let at = 0; at < block.length; ) {
        const { bytesWritten } = await temp.handle.write(block, at, block.length - at, written + at);
        at += bytesWritten;
      }
      written += block.length;
    }
    const actual = hash.digest('hex');
    if (actual !== file.sha256) {
      store.countVerifyFailure('object');
      throw new FileDigestMismatchError(file.path, file.sha256, actual);
    }
  } catch (error) {
    await discardTempFile(temp);
    throw error;
  }
  await publishTempFile(temp, target, dirname(target));
  return true;
}
