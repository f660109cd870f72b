import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chunkByBytes } from '../../src/relay/relay.ts';

const message = (size: number) => ({ key: 'k', value: 'x'.repeat(size - 1), headers: {} });

describe('chunkByBytes', () => {
  it('keeps order and splits so that no send goes over the limit', () => {
    const messages = Array.from({ length: 10 }, (_, i) => ({ ...message(300), key: String(i) }));
    const chunks = chunkByBytes(messages, 1000);
    assert.deepEqual(chunks.map((chunk) => chunk.length), [3, 3, 3, 1]);
    assert.deepEqual(chunks.flat().map((m) => m.key), messages.map((m) => m.key));
  });

  it('counts headers, and sends a message over the limit on its own', () => {
    const withHeaders = { key: 'k', value: 'v', headers: { traceparent: 'x'.repeat(990) } };
    assert.equal(chunkByBytes([withHeaders, withHeaders], 1000).length, 2);
    assert.deepEqual(chunkByBytes([message(10), message(5000), message(10)], 1000).map((c) => c.length), [1, 1, 1]);
    assert.deepEqual(chunkByBytes([], 1000), []);
  });

  it('takes sizes the caller has already', () => {
    const messages = Array.from({ length: 4 }, (_, i) => ({ ...message(10), key: String(i) }));
    assert.deepEqual(chunkByBytes(messages, 1000, (_, index) => (index === 1 ? 995 : 10)).map((chunk) => chunk.map((m) => m.key)), [['0'], ['1'], ['2', '3']]);
  });
});
