import { open, type FileHandle } from 'node:fs/promises';
import { ChunkNotFoundError } from './casErrors.ts';
import { chunkPath, type CasLayout } from './casLayout.ts';
import type { ContentStore } from './contentStore.ts';

/** Pieces can be 16 MiB or more; rebuilding a file holds one block of this size at a time. */
export const blockBytes = 1 << 20;

export async function openChunk(layout: CasLayout, sha256: string): Promise<FileHandle> {
  return open(chunkPath(layout, sha256), 'r').catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'ENOENT' ? new ChunkNotFoundError(sha256) : error;
  });
}

/** Reads exactly `length` bytes at `position`, or throws: a short chunk is a damaged chunk. */
export async function readExactly(handle: FileHandle, position: number, length: number, what: string, into?: Uint8Array): Promise<Buffer> {
  const buffer = into === undefined ? Buffer.allocUnsafe(length) : Buffer.from(into.buffer, into.byteOffset, length);
  for (let filled = 0; filled < length; ) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) throw new Error(`${what} ended at ${position + filled} bytes, ${length - filled} bytes early`);
    filled += bytesRead;
  }
  return buffer;
}

/**
 * Bytes [start, start + length) of an artifact's byte stream, read out of its chunks one
 * bounded block at a time: a file may start or end inside a piece, a piece may hold several files.
 * With `block` (of blockBytes bytes), every block is read into it: a block yielded holds its
 * bytes only until the next one is asked for.
 */
export async function* artifactBytes(
  store: ContentStore,
  pieceSha256: readonly string[],
  pieceLength: number,
  start: number,
  length: number,
  block?: Uint8Array,
): AsyncGenerator<Buffer> {
  if (block !== undefined && block.byteLength !== blockBytes) throw new RangeError(`block has ${block.byteLength} bytes, not ${blockBytes}`);
  const end = start + length;
  for (let position = start; position < end; ) {
    const piece = Math.floor(position / pieceLength);
    const digest = pieceSha256[piece];
    if (digest === undefined) throw new RangeError(`byte ${position} is beyond the last piece`);
    const pieceEnd = Math.min(end, (piece + 1) * pieceLength);
    const { handle, start: chunkStart } = await store.openChunk(digest);
    try {
      for (; position < pieceEnd; ) {
        const size = Math.min(blockBytes, pieceEnd - position);
        yield await readExactly(handle, chunkStart + position - piece * pieceLength, size, `chunk ${digest} (piece ${piece})`, block?.subarray(0, size));
        position += size;
      }
    } finally {
      await handle.close();
    }
  }
}
