import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Wire } from 'webtorrent';
import { coalesceWireWrites } from '../../src/engine/coalesceWireWrites.ts';
import { createWriteBackpressure } from '../../src/engine/writeBackpressure.ts';

describe('write backpressure', () => {
  it('lets wires read while the pending bytes are under the budget, holds them at it, and resumes them in order', () => {
    const budget = createWriteBackpressure(100);
    const resumed: string[] = [];
    budget.started(60);
    budget.whenWritable(() => resumed.push('a'));
    assert.deepEqual(resumed, ['a'], 'under the budget: at once');
    budget.started(40);
    budget.whenWritable(() => resumed.push('b'));
    budget.whenWritable(() => resumed.push('c'));
    assert.deepEqual(resumed, ['a']);
    budget.finished(10);
    assert.deepEqual(resumed, ['a', 'b', 'c']);
    assert.equal(budget.pendingBytes(), 90);
    assert.throws(() => createWriteBackpressure(0), RangeError);
  });
});

describe('coalesceWireWrites', () => {
  const fakeWire = () => {
    const pushed: Buffer[] = [];
    const wire = { _push: (data: Uint8Array) => pushed.push(Buffer.from(data)) > 0 } as unknown as Wire;
    coalesceWireWrites(wire);
    return { wire, pushed };
  };

  it('sends what one turn of the event loop wrote as one buffer, in order', async () => {
    const { wire, pushed } = fakeWire();
    wire._push(Buffer.from('ab'));
    wire._push(Buffer.from('c'));
    assert.equal(pushed.length, 0);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(pushed, [Buffer.from('abc')]);
    wire._push(Buffer.from('d'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(pushed, [Buffer.from('abc'), Buffer.from('d')]);
  });

  it('flushes at once past 64 KiB, keeping the order', async () => {
    const { wire, pushed } = fakeWire();
    const big = Buffer.alloc(64 * 1024, 1);
    wire._push(Buffer.from('x'));
    wire._push(big);
    assert.equal(pushed.length, 1);
    assert.deepEqual(pushed[0], Buffer.concat([Buffer.from('x'), big]));
    wire._push(Buffer.from('y'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(pushed.at(-1), Buffer.from('y'));
    assert.equal(pushed.length, 2);
  });
});
