import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import { createTempFile, discardTempFile, publishTempFile } from './atomicWrite.ts';
import { FileDigestMismatchError } from './casErrors.ts';
import { objectPath } from './casLayout.ts';
import type { ContentStore } from './contentStore.ts';
import { fileSize, touch } from './fileStats.ts';
import type { ArtifactShape, PlannedFile } from './artifactPlan.ts';
import { artifactBytes } from './readRange.ts';

/**
 * objects/<sha256> for one file, streamed out of the chunks into tmp/ and hashed on the way;
 * published only if the whole-file digest matches. An object that is already there (the same
 * file in another transfer) is reused, not rebuilt. Returns whether it was built.
 */
export async function buildObject(store: ContentStore, shape: ArtifactShape, file: PlannedFile): Promise<boolean> {
  const target = objectPath(store.layout, file.sha256);
  if ((await fileSize(target)) !== undefined) {
    await touch(target);
    return false;
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
