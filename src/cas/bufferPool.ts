/**
 * Buffers reused by length: pieces being assembled, read-ahead windows. Every piece received and
 * every window read was a new ArrayBuffer, and V8 starts a full collection for about every 64 MiB
 * of new external memory: 40 of them in a 512 MiB transfer (bench pair), and a buffer no longer
 * used stays in RSS until one runs. A buffer may come back only when nothing will read or write it
 * again; the callers say why theirs do (torrentEngine.ts for pieces, chunkReadCache.ts for windows).
 *
 * At most maxIdleBytes wait idle, and the idle ones are let go when none was taken for idleMs
 * (a worker between transfers keeps none).
 *
 * A buffer the pool lets go is freed at once (detached), not at V8's next full collection: one that
 * lived as long as a piece is in the old generation, and with 32 MiB pieces 140 MiB of such garbage
 * was in RSS beside 128 MiB in flight (bench pair, 2 GiB in 32 MiB pieces).
 */
const isWhole = (buffer: Uint8Array): buffer is Uint8Array<ArrayBuffer> =>
  buffer.buffer instanceof ArrayBuffer && buffer.byteOffset === 0 && buffer.buffer.byteLength === buffer.byteLength;

export function createBufferPool(options: { maxIdleBytes: number; idleMs?: number; smallestKept?: number }) {
  const { maxIdleBytes } = options;
  const idleMs = options.idleMs ?? 5_000;
  const smallestKept = options.smallestKept ?? 1;
  const idle = new Map<number, Array<Uint8Array<ArrayBuffer>>>();
  let idleBytes = 0;
  let takenSinceTrim = false;
  let trim: NodeJS.Timeout | undefined;
  const counts = { taken: 0, reused: 0, returned: 0, freed: 0 };
  const free = (buffer: Uint8Array<ArrayBuffer>): void => {
    buffer.buffer.transfer(0);
    counts.freed++;
  };

  const trimWhenUnused = (): void => {
    trim = undefined;
    if (takenSinceTrim) {
      takenSinceTrim = false;
      trim = setTimeout(trimWhenUnused, idleMs).unref();
      return;
    }
    for (const buffers of idle.values()) buffers.forEach(free);
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
    /**
     * Hands back a buffer `take` gave: only once nothing will read or write it again. One the pool
     * does not keep is detached at once, so a view still held elsewhere reads as empty.
     */
    give: (buffer: Uint8Array): void => {
      const length = buffer.byteLength;
      // A view into a larger buffer is not one this pool gave out.
      if (!isWhole(buffer) || length < smallestKept) return;
      if (idleBytes + length > maxIdleBytes) return free(buffer);
      let same = idle.get(length);
      if (same === undefined) idle.set(length, (same = []));
      same.push(buffer);
      idleBytes += length;
      counts.returned++;
      trim ??= setTimeout(trimWhenUnused, idleMs).unref();
    },
    /** Buffers handed out, of those how many were reused, how many came back and how many were freed; bytes idle now. */
    stats: () => ({ ...counts, idleBytes }),
  };
}

export type BufferPool = ReturnType<typeof createBufferPool>;
