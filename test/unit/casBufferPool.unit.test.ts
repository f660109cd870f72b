import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { createBufferPool } from '../../src/cas/bufferPool.ts';

const MiB = 1024 * 1024;

describe('the buffer pool', () => {
  it('hands a returned buffer out again for a piece of the same length', () => {
    const pool = createBufferPool({ maxIdleBytes: 64 * MiB });
    const first = pool.take(MiB);
    pool.give(first);
    assert.notEqual(pool.take(2 * MiB), first, 'another length gets a buffer of its own');
    assert.equal(pool.take(MiB), first);
    assert.notEqual(pool.take(MiB), first, 'each buffer goes out once');
    assert.deepEqual(pool.stats(), { taken: 4, reused: 1, returned: 1, freed: 0, idleBytes: 0 });
  });

  it('keeps no buffer below its smallest, no view into another, and no more than its idle limit', () => {
    const pool = createBufferPool({ maxIdleBytes: 2 * MiB, smallestKept: 128 * 1024 + 1 });
    const small = pool.take(128 * 1024);
    pool.give(small);
    const view = new Uint8Array(4 * MiB).subarray(0, MiB);
    pool.give(view);
    const buffers = [pool.take(MiB), pool.take(MiB), pool.take(MiB)];
    for (const buffer of buffers) pool.give(buffer);
    assert.deepEqual(pool.stats(), { taken: 4, reused: 0, returned: 2, freed: 1, idleBytes: 2 * MiB });
    assert.equal((buffers[2]!.buffer as ArrayBuffer).detached, true, 'the one over the limit was freed at once');
    assert.equal(view.length, MiB, 'a view into a buffer the pool did not give is left alone');
    assert.equal(small.length, 128 * 1024, 'so is one below its smallest');
  });

  it('lets its idle buffers go once none was taken for a while', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const pool = createBufferPool({ maxIdleBytes: 64 * MiB, idleMs: 5000 });
      const first = pool.take(MiB);
      pool.give(first);
      mock.timers.tick(5000);
      assert.equal(pool.stats().idleBytes, MiB, 'a buffer was taken in the last 5 s');
      mock.timers.tick(5000);
      assert.equal(pool.stats().idleBytes, 0);
      assert.equal((first.buffer as ArrayBuffer).detached, true, 'and freed at once');
      const again = pool.take(MiB);
      assert.equal(pool.stats().reused, 0, 'a new buffer, not the one let go');
      pool.give(again);
      assert.equal(pool.stats().idleBytes, MiB, 'and the pool works as before');
    } finally {
      mock.timers.reset();
    }
  });
});
