import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Wire } from 'webtorrent';
import { coalesceWireWrites } from '../../src/engine/coalesceWireWrites.ts';

/** A wire's _push, recording what reaches the stream (copied, as the socket would have it). */
function fakeWire() {
  const sent: Buffer[] = [];
  const wire = { _push: (data: Uint8Array) => sent.push(Buffer.from(data)) > 0 } as unknown as Wire;
  coalesceWireWrites(wire);
  return { wire, sent };
}

const bytes = (length: number, fill: number): Buffer => Buffer.alloc(length, fill);

describe('coalesceWireWrites', () => {
  it('sends the messages of one turn as one buffer, in order', async () => {
    const { wire, sent } = fakeWire();
    const messages = [bytes(17, 1), bytes(13, 2), bytes(16 * 1024, 3), bytes(17, 4)];
    for (const message of messages) wire._push(message);
    assert.equal(sent.length, 0, 'nothing before the turn ends');
    await nextTurn();
    assert.equal(sent.length, 1);
    assert.ok(sent[0]!.equals(Buffer.concat(messages)));
    wire._push(bytes(17, 5));
    await nextTurn();
    assert.deepEqual(sent.map((buffer) => buffer.length), [messages.reduce((sum, message) => sum + message.length, 0), 17], 'the next turn, a batch of its own');
  });

  it('copies a message when it is pushed: its buffer may be reused at once', async () => {
    const { wire, sent } = fakeWire();
    const block = bytes(16 * 1024, 7);
    wire._push(bytes(13, 9));
    wire._push(block);
    block.fill(0); // the read-ahead window it came from, read into again
    await nextTurn();
    assert.ok(sent[0]!.subarray(13).equals(bytes(16 * 1024, 7)));
  });

  it('sends a batch once it holds 64 KiB, and a larger message alone, copied', async () => {
    const { wire, sent } = fakeWire();
    for (let i = 0; i < 4; i++) {
      wire._push(bytes(13, i));
      wire._push(bytes(16 * 1024 - 13, i));
    }
    assert.equal(sent.length, 1, 'four 16 KiB messages fill a batch');
    assert.equal(sent[0]!.length, 64 * 1024);
    const big = bytes(100 * 1024, 5);
    wire._push(bytes(17, 6));
    wire._push(big);
    big.fill(0);
    assert.deepEqual(sent.map((buffer) => buffer.length), [64 * 1024, 17, 100 * 1024], 'what was pending goes first');
    assert.ok(sent[2]!.equals(bytes(100 * 1024, 5)));
    await nextTurn();
    assert.equal(sent.length, 3);
  });
});
