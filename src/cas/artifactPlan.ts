import { UnsafePathError } from './casErrors.ts';
import { assertSha256Hex } from './digest.ts';
import { sanitizeRelativePath } from './safePath.ts';

/** One file of an artifact, in manifest order; `sha256` is the digest of the whole file. */
export interface ArtifactFile {
  path: string;
  length: number;
  sha256: string;
}

export interface ArtifactShape {
  files: readonly ArtifactFile[];
  pieceLength: number;
  /** Every piece of the artifact's byte stream, in order. */
  pieceSha256: readonly string[];
}

/** A file's place in the artifact's byte stream, with its path already sanitized. */
export interface PlannedFile extends ArtifactFile {
  start: number;
}

/**
 * Checks that the manifest is self-consistent before any byte is read: lengths add up to the
 * piece count, digests are hex, paths are safe and no two files claim the same place (a file
 * 'a' and a file 'a/b' cannot both exist).
 */
export function planArtifact(shape: ArtifactShape): PlannedFile[] {
  const { files, pieceLength, pieceSha256 } = shape;
  if (!Number.isSafeInteger(pieceLength) || pieceLength < 1 || (pieceLength & (pieceLength - 1)) !== 0) {
    throw new RangeError(`pieceLength must be a power of two, got ${pieceLength}`);
  }
  if (files.length === 0) throw new RangeError('an artifact has at least one file');
  pieceSha256.forEach((digest, index) => assertSha256Hex(digest, `pieceSha256[${index}]`));

  const planned: PlannedFile[] = [];
  const paths = new Set<string>();
  const directories = new Set<string>();
  let start = 0;
  for (const file of files) {
    if (!Number.isSafeInteger(file.length) || file.length < 0) throw new RangeError(`file ${JSON.stringify(file.path)} has length ${file.length}`);
    assertSha256Hex(file.sha256, `sha256 of ${JSON.stringify(file.path)}`);
    const path = sanitizeRelativePath(file.path);
    if (paths.has(path) || directories.has(path)) throw new UnsafePathError(path, 'names the same place as another file of the artifact');
    const segments = path.split('/');
    for (let end = 1; end < segments.length; end++) {
      const parent = segments.slice(0, end).join('/');
      if (paths.has(parent)) throw new UnsafePathError(path, `is below ${JSON.stringify(parent)}, another file of the artifact`);
      directories.add(parent);
    }
    paths.add(path);
    planned.push({ path, length: file.length, sha256: file.sha256, start });
    start += file.length;
  }
  const pieceCount = Math.ceil(start / pieceLength);
  if (pieceSha256.length !== pieceCount) {
    throw new RangeError(`${start} bytes in pieces of ${pieceLength} make ${pieceCount} pieces, but ${pieceSha256.length} digests were given`);
  }
  return planned;
}
