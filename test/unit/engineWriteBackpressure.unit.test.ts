import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
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
