import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readThenStore } from '../../src/workers/readThenStore.ts';
import { waitFor } from '../helpers/waitFor.ts';

/** A store that finishes only when the test lets it: what an fsync behind other writers looks like. */
function heldStores() {
  const waiting: Array<() => void> = [];
  const stored: number[] = [];
  return {
    stored,
    pending: () => waiting.length,
    releaseOne: () => waiting.shift()?.(),
    releaseAll: () => waiting.splice(0).forEach((release) => release()),
    store: async (item: number): Promise<void> => {
      await new Promise<void>((release) => waiting.push(release));
      stored.push(item);
    },
  };
}

const items = Array.from({ length: 10 }, (_, i) => i);

describe('readThenStore', () => {
  it('goes on reading while earlier items wait for their stores', async () => {
    const stores = heldStores();
    const read: number[] = [];
    const done = readThenStore(items, { reads: 2, held: 10 }, async (item) => void read.push(item), stores.store);
    // Every item is read although no store has finished.
    await waitFor('every item read', () => read.length === 10);
    assert.deepEqual(stores.stored, []);
    stores.releaseAll();
    await done;
    assert.deepEqual(stores.stored.toSorted((a, b) => a - b), items);
  });

  it('never holds more than `held` items read and not yet stored', async () => {
    const stores = heldStores();
    const read: number[] = [];
    const done = readThenStore(items, { reads: 2, held: 3 }, async (item) => void read.push(item), stores.store);
    await waitFor('three stores waiting', () => stores.pending() === 3);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(read, [0, 1, 2]);
    stores.releaseOne();
    await waitFor('a fourth read once a store finished', () => read.length === 4);
    assert.deepEqual(read, [0, 1, 2, 3]);
    await waitFor('every item stored', () => {
      stores.releaseAll();
      return stores.stored.length === items.length;
    });
    await done;
  });

  it('reads at most `reads` at a time', async () => {
    let reading = 0;
    let most = 0;
    await readThenStore(
      items,
      { reads: 3, held: 10 },
      async () => {
        most = Math.max(most, ++reading);
        await new Promise((resolve) => setImmediate(resolve));
        reading--;
      },
      async () => undefined,
    );
    assert.equal(most, 3);
  });

  it('after a failed read starts no read, waits for the stores begun and throws the failure', async () => {
    const stores = heldStores();
    const read: number[] = [];
    const failure = new Error('the origin dropped the connection');
    const done = readThenStore(
      items,
      { reads: 1, held: 4 },
      async (item) => {
        if (item === 2) throw failure;
        read.push(item);
      },
      stores.store,
    );
    let settled = false;
    void done.catch(() => (settled = true));
    await waitFor('the stores of the items read before the failure', () => stores.pending() === 2);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false, 'it returns only after the stores begun have finished');
    stores.releaseAll();
    await assert.rejects(done, failure);
    assert.deepEqual(read, [0, 1]);
    assert.deepEqual(stores.stored, [0, 1]);
  });

  it('does not store what a read brought in after another read failed', async () => {
    const failure = new Error('the origin dropped the connection');
    const slow = Promise.withResolvers<void>();
    const stored: number[] = [];
    const done = readThenStore(
      [0, 1],
      { reads: 2, held: 2 },
      async (item) => {
        if (item === 1) throw failure;
        await slow.promise;
      },
      async (item) => void stored.push(item),
    );
    // Item 1 fails while item 0 is still being read; item 0 arrives afterwards.
    await new Promise((resolve) => setImmediate(resolve));
    slow.resolve();
    await assert.rejects(done, failure);
    assert.deepEqual(stored, []);
  });

  it('after a failed store starts no read and throws the failure', async () => {
    const read: number[] = [];
    const failure = new Error('ENOSPC');
    await assert.rejects(
      readThenStore(
        items,
        { reads: 1, held: 1 },
        async (item) => void read.push(item),
        async (item) => {
          if (item === 1) throw failure;
        },
      ),
      failure,
    );
    assert.deepEqual(read, [0, 1]);
  });

  it('refuses limits that cannot make progress', async () => {
    await assert.rejects(readThenStore(items, { reads: 0, held: 4 }, async () => undefined, async () => undefined), RangeError);
    await assert.rejects(readThenStore(items, { reads: 4, held: 2 }, async () => undefined, async () => undefined), RangeError);
  });
});
