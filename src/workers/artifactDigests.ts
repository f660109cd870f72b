import { createHash, type Hash } from 'node:crypto';
import type { ContentStore } from '../cas/index.ts';
import type { ArtifactFile } from '../events/transferEvents.ts';

/**
 * Whole-file SHA-256 of each file, read back from the CAS piece by piece in stream order (one
 * piece in memory at a time; the pieces were just written, so they come from the page cache).
 */
export async function fileDigestsFromCas(cas: ContentStore, files: readonly ArtifactFile[], pieceSha256: readonly string[]): Promise<string[]> {
  const digests: string[] = [];
  let fileIndex = 0;
  let remaining = files[0]?.length ?? 0;
  let hash: Hash = createHash('sha256');
  const finishEmptyFiles = (): void => {
    while (fileIndex < files.length && remaining === 0) {
      digests.push(hash.digest('hex'));
      hash = createHash('sha256');
      fileIndex++;
      remaining = files[fileIndex]?.length ?? 0;
    }
  };
  finishEmptyFiles();
  for (const sha256 of pieceSha256) {
    let piece = await cas.readChunk(sha256);
    while (piece.length > 0 && fileIndex < files.length) {
      const take = Math.min(remaining, piece.length);
      hash.update(piece.subarray(0, take));
      piece = piece.subarray(take);
      remaining -= take;
      finishEmptyFiles();
    }
  }
  if (digests.length !== files.length) throw new Error(`the pieces cover ${digests.length} of ${files.length} files`);
  return digests;
}
