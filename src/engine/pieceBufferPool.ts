/**
 * webtorrent destroys a wire that asks for more than this in one request (128 KiB), so no block
 * served can be a whole buffer above it: the only way a pooled buffer could be still queued on a
 * socket when it is reused.
 */
const largestRequest = 128 * 1024;

/**
 * Buffers for pieces being assembled, reused once the CAS has written them. Each piece takes its
 * whole length from its first block (patches/torrent-piece), and without reuse every piece
 * received was a new ArrayBuffer: V8 starts a full collection for about every 64 MiB of new
 * external memory (40 in a 512 MiB transfer, bench pair), and a written piece's buffer stays in
 * RSS until one runs. A buffer comes back only from the store's put, after the write, when nothing
 * else holds it: webtorrent serves a piece only once it is stored, from the CAS, and the engine's
 * ban bookkeeping drops a piece's blocks once it is whole.
 *
 * At most maxIdleBytes wait idle, and the idle ones are let go when none was taken for idleMs
 * (a worker between transfers keeps none).
 */
export function createPieceBufferPool(options: { maxIdleBytes?: number; idleMs?: number } = {}) {
  const maxIdleBytes = options.maxIdleBytes ?? 64 * 1024 * 1024;
  const idleMs = options.idleMs ?? 5_000;
  const idle = new Map<number, Uint8Array[]>();
  let idleBytes = 0;
  let takenSinceTrim = false;
  let trim: NodeJS.Timeout | undefined;
  const counts = { taken: 0, reused: 0, returned: 0 };

  const trimWhenUnused = (): void => {
    trim = undefined;
    if (takenSinceTrim) {
      takenSinceTrim = false;
      trim = setTimeout(trimWhenUnused, idleMs).unref();
      return;
    }
    idle.clear();
    idleBytes = 0;
  };

  return {
    /** A buffer of `length` bytes, with whatever bytes it held before. */
    take: (length: number): Uint8Array => {
      counts.taken++;
      takenSinceTrim = true;
      const buffer = idle.get(length)?.pop();
      if (buffer === undefined) return new Uint8Array(length);
      counts.reused++;
      idleBytes -= length;
      return buffer;
    },
    /** Hands back a buffer `take` gave: only once nothing will read or write it again. */
    give: (buffer: Uint8Array): void => {
      const length = buffer.byteLength;
      // A view into a larger buffer is not one this pool gave out, and a small one is not worth keeping.
      if (length <= largestRequest || buffer.byteOffset !== 0 || buffer.buffer.byteLength !== length) return;
      if (idleBytes + length > maxIdleBytes) return;
      let same = idle.get(length);
      if (same === undefined) idle.set(length, (same = []));
      same.push(buffer);
      idleBytes += length;
      counts.returned++;
      trim ??= setTimeout(trimWhenUnused, idleMs).unref();
    },
    /** Buffers handed out, of those how many were reused, and how many came back; bytes idle now. */
    stats: () => ({ ...counts, idleBytes }),
  };
}

export type PieceBufferPool = ReturnType<typeof createPieceBufferPool>;
