import type { ArtifactFile } from '../events/transferEvents.ts';

/**
 * Where a seed job reads an artifact: an HTTP(S) URL, an S3 object or prefix, a local path
 * (`torrentedge push`). Files are listed in a fixed order; their concatenation is the artifact's
 * byte stream, and reads are ranges of one file.
 */
export interface Origin {
  describe(): Promise<{ files: ArtifactFile[] }>;
  read(fileIndex: number, offset: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

/** Reads [offset, offset + length) of the artifact's stream, across file boundaries. */
export async function readStreamRange(origin: Origin, files: readonly ArtifactFile[], offset: number, length: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let fileStart = 0;
  for (const [index, file] of files.entries()) {
    const fileEnd = fileStart + file.length;
    const from = Math.max(offset, fileStart);
    const to = Math.min(offset + length, fileEnd);
    if (from < to) parts.push(await origin.read(index, from - fileStart, to - from));
    fileStart = fileEnd;
    if (fileStart >= offset + length) break;
  }
  const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  if (bytes.length !== length) throw new Error(`the origin returned ${bytes.length} bytes for a range of ${length}`);
  return bytes;
}
