/**
 * Bounds the bytes of verified pieces waiting for the CAS. webtorrent asks for more blocks as
 * soon as a piece verifies, whether or not the store has written it, so a disk (or an event
 * loop) slower than the network piled pieces up in memory: bench pair, 1 GiB over loopback, had
 * up to 164 pieces (328 MiB) waiting, and the leecher peaked at 640 MiB RSS. Wires stop taking
 * bytes from their sockets while the budget is spent (TCP then slows the sender) and resume as
 * writes finish.
 */
export function createWriteBackpressure(maxPendingBytes: number) {
  if (!Number.isSafeInteger(maxPendingBytes) || maxPendingBytes < 1) throw new RangeError(`maxPendingBytes must be a positive integer, got ${maxPendingBytes}`);
  let pending = 0;
  let waiting: (() => void)[] = [];
  return {
    started(bytes: number): void {
      pending += bytes;
    },
    finished(bytes: number): void {
      pending -= bytes;
      if (pending >= maxPendingBytes || waiting.length === 0) return;
      const resume = waiting;
      waiting = [];
      for (const next of resume) next();
    },
    /** Runs `next` now while under the budget, else once writes have brought it back under. */
    whenWritable(next: () => void): void {
      if (pending < maxPendingBytes) next();
      else waiting.push(next);
    },
    pendingBytes: (): number => pending,
  };
}

export type WriteBackpressure = ReturnType<typeof createWriteBackpressure>;
