/**
 * Buffers reused by length: pieces being assembled, read-ahead windows. Every piece received and
 * every window read was a new ArrayBuffer, and V8 starts a full collection for about every 64 MiB
 * of new external memory: 40 of them in a 512 MiB transfer (bench pair), and a buffer no longer
 * used stays in RSS until one runs. A buffer may come back only when nothing will read or write it
 * again; the callers say why theirs do (torrentEngine.ts for pieces, chunkReadCache.ts for windows).
 *
 * At most maxIdleBytes wait idle, and the idle ones are let go when none was taken for idleMs
 * (a worker between transfers keeps none).
 */
export function createBufferPool(options: { maxIdleBytes: number; idleMs?: number; smallestKept?: number }) {
  const { maxIdleBytes } = options;
  const idleMs = options.idleMs ?? 5_000;
  const smallestKept = options.smallestKept ?? 1;
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
      // A view into a larger buffer is not one this pool gave out.
      if (length < smallestKept || buffer.byteOffset !== 0 || buffer.buffer.byteLength !== length) return;
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

export type BufferPool = ReturnType<typeof createBufferPool>;
