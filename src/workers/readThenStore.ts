export interface ReadThenStoreLimits {
  /** Reads in flight at once. */
  reads: number;
  /** Items read or being read whose store has not finished: what bounds the memory held. */
  held: number;
}

/**
 * Reads `items` `reads` at a time, in order of start, and stores each result as soon as it is
 * read, without holding a read slot meanwhile: a slow store (an fsync queued behind other
 * writers) does not idle the link the reads come over. When one read or store fails, no read
 * starts and no store begins after it; the stores already begun are waited for, so nothing is
 * written after this returns, and the first failure is thrown.
 */
export async function readThenStore<T, R>(
  items: readonly T[],
  limits: ReadThenStoreLimits,
  read: (item: T) => Promise<R>,
  store: (item: T, result: R) => Promise<void>,
): Promise<void> {
  if (!(limits.reads >= 1 && limits.held >= limits.reads)) throw new RangeError(`limits need 1 ≤ reads ≤ held, got ${JSON.stringify(limits)}`);
  let next = 0;
  let held = 0;
  let failure: { error: unknown } | undefined;
  const waiting: Array<() => void> = [];
  const stores = new Set<Promise<void>>();
  const fail = (error: unknown): void => {
    failure ??= { error };
    for (const wake of waiting.splice(0)) wake();
  };
  const release = (): void => {
    held--;
    waiting.shift()?.();
  };

  const lane = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      if (held >= limits.held) {
        await new Promise<void>((wake) => waiting.push(wake));
        continue;
      }
      const item = items[next++]!;
      held++;
      let result: R;
      try {
        result = await read(item);
      } catch (error) {
        release();
        fail(error);
        return;
      }
      // Another lane failed while this read ran: nothing is stored after a failure.
      if (failure !== undefined) {
        release();
        return;
      }
      // Begun on a later turn, so that a store that throws at once fails like one that rejects.
      const storing = Promise.resolve(result).then((value) => store(item, value)).then(release, (error: unknown) => {
        release();
        fail(error);
      });
      stores.add(storing);
      void storing.finally(() => stores.delete(storing));
    }
  };

  await Promise.all(Array.from({ length: Math.min(limits.reads, items.length) }, lane));
  while (stores.size > 0) await Promise.all(stores);
  if (failure !== undefined) throw failure.error;
}
