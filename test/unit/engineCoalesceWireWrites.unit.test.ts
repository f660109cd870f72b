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

/** A piece message's header as bittorrent-protocol pushes it: length, id 7, index, offset. */
function pieceHeader(index: number, offset: number, blockLength: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(9 + blockLength, 0);
  header[4] = 7;
  header.writeUInt32BE(index, 5);
  header.writeUInt32BE(offset, 9);
  return header;
}

describe('coalesceWireWrites', () => {
  it('sends the messages of one turn as one buffer, in order', async () => {
    const { wire, sent } = fakeWire();
    const messages = [bytes(17, 1), pieceHeader(3, 0, 16 * 1024), bytes(16 * 1024, 3), bytes(17, 4)];
    for (const message of messages) wire._push(message);
    assert.equal(sent.length, 0, 'nothing before the turn ends');
    await nextTurn();
    assert.equal(sent.length, 1);
    assert.ok(sent[0]!.equals(Buffer.concat(messages)));
    wire._push(bytes(17, 5));
    wire._push(bytes(5, 6));
    await nextTurn();
    assert.deepEqual(sent.map((buffer) => buffer.length), [16 * 1024 + 47, 22], 'the next turn, a batch of its own');
  });

  it('copies a block when it is pushed: the window it is a view of may be read into at once', async () => {
    const { wire, sent } = fakeWire();
    const block = bytes(16 * 1024, 7);
    wire._push(pieceHeader(0, 0, block.length));
    wire._push(block);
    block.fill(0);
    const tiny = bytes(3, 8); // the short last block of a piece is a block all the same
    wire._push(pieceHeader(1, 0, tiny.length));
    wire._push(tiny);
    tiny.fill(0);
    await nextTurn();
    assert.ok(sent[0]!.subarray(13, 13 + 16 * 1024).equals(bytes(16 * 1024, 7)));
    assert.ok(sent[0]!.subarray(-3).equals(bytes(3, 8)));
  });

  it('sends a batch once it holds 64 KiB, and a block larger than that alone, copied', async () => {
    const { wire, sent } = fakeWire();
    for (let i = 0; i < 4; i++) {
      wire._push(pieceHeader(i, 0, 16 * 1024 - 13));
      wire._push(bytes(16 * 1024 - 13, i));
    }
    assert.deepEqual(sent.map((buffer) => buffer.length), [64 * 1024], 'four 16 KiB messages fill a batch');
    const big = bytes(100 * 1024, 5); // a stock client may ask for up to 128 KiB
    wire._push(bytes(17, 6));
    wire._push(pieceHeader(9, 0, big.length));
    wire._push(big);
    big.fill(0);
    assert.deepEqual(sent.map((buffer) => buffer.length), [64 * 1024, 30, 100 * 1024], 'what was pending goes first');
    assert.ok(sent[2]!.equals(bytes(100 * 1024, 5)));
    await nextTurn();
    assert.equal(sent.length, 3);
  });
});
