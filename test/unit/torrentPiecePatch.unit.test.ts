import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import Piece from 'torrent-piece';

// patches/torrent-piece+4.0.1.patch: a piece is assembled in one buffer as its blocks arrive.
describe('torrent-piece, as patched', () => {
  it('assembles blocks in place, in any order, and flush hands over that buffer without a copy', () => {
    const bytes = randomBytes(40 * 1024);
    const piece = new Piece(bytes.length);
    const blocks = [0, 1, 2].map(() => piece.reserve());
    assert.deepEqual(blocks, [0, 1, 2]);
    assert.equal(piece.reserve(), -1);
    // Each block in a read buffer of its own, bigger than the block, as a socket delivers it.
    const reads = blocks.map((block) => {
      const read = Buffer.alloc(64 * 1024, 0xee);
      bytes.copy(read, 100, piece.chunkOffset(block), piece.chunkOffset(block) + piece.chunkLength(block));
      return read.subarray(100, 100 + piece.chunkLength(block));
    });
    assert.equal(piece.set(2, reads[2]!, 'peer-a'), false);
    assert.equal(piece.set(0, reads[0]!, 'peer-b'), false);
    assert.equal(piece.set(0, Buffer.alloc(16 * 1024, 1), 'peer-c'), false, 'a block already held is not overwritten');
    const held = piece._buffer!.filter((block) => block !== undefined);
    assert.ok(held.every((block) => !reads.some((read) => read.buffer === block.buffer)), 'no block keeps its read buffer alive');
    assert.equal(piece.set(1, reads[1]!, 'peer-a'), true);
    assert.equal(piece.missing, 0);
    const flushed = piece.flush();
    assert.ok(flushed !== null);
    assert.deepEqual(Buffer.from(flushed), bytes);
    assert.ok(held.every((block) => block.buffer === flushed.buffer), 'the blocks were views of the flushed buffer');
    assert.equal(piece.flush(), null, 'flushed once');
    assert.equal(piece.reserve(), -1);
  });

  it('flushes nothing while a block is missing', () => {
    const piece = new Piece(32 * 1024);
    piece.reserve();
    assert.equal(piece.set(0, Buffer.alloc(16 * 1024, 7), 'peer'), false);
    assert.equal(piece.flush(), null);
  });

  it('takes its buffer from Piece.allocate at the first reservation, and overwrites whatever the buffer held', () => {
    const allocate = Piece.allocate;
    const reused = new Uint8Array(20 * 1024).fill(0xaa);
    const asked: number[] = [];
    Piece.allocate = (length) => {
      asked.push(length);
      return reused;
    };
    try {
      const piece = new Piece(reused.length);
      assert.deepEqual(asked, [], 'nothing is allocated before a block is reserved');
      piece.reserve();
      piece.reserve();
      assert.deepEqual(asked, [reused.length]);
      const bytes = randomBytes(reused.length);
      piece.set(1, bytes.subarray(16 * 1024), 'peer');
      piece.set(0, bytes.subarray(0, 16 * 1024), 'peer');
      const flushed = piece.flush();
      assert.equal(flushed, reused);
      assert.deepEqual(Buffer.from(flushed), bytes);
    } finally {
      Piece.allocate = allocate;
    }
  });
});
