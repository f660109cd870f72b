import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContentStore } from '../../src/cas/contentStore.ts';
import { artifactBytes, blockBytes } from '../../src/cas/readRange.ts';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('artifactBytes', () => {
  let base: string;
  let store: ContentStore;
  // Pieces of two blocks: the stream is one whole piece and a second of a block and 1000 bytes.
  // A block never spans pieces, so the range below takes three reads.
  const pieceLength = blockBytes * 2;
  const stream = randomBytes(pieceLength + blockBytes + 1000);
  const pieces = [stream.subarray(0, pieceLength), stream.subarray(pieceLength)];
  const digests = pieces.map(sha256);

  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'read-range-'));
    store = await ContentStore.open(join(base, 'cas'));
    for (const [i, piece] of pieces.entries()) await store.putChunk(digests[i]!, piece);
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('reads every block into the buffer given, and the blocks make up the range', async () => {
    const block = new Uint8Array(blockBytes);
    const start = 1000;
    const length = stream.length - 2000;
    const read: Buffer[] = [];
    for await (const bytes of artifactBytes(store, digests, pieceLength, start, length, block)) {
      assert.equal(bytes.buffer, block.buffer, 'a view of the buffer given, not a new one');
      read.push(Buffer.from(bytes));
    }
    assert.equal(read.length, 3);
    assert.ok(Buffer.concat(read).equals(stream.subarray(start, start + length)));
  });

  it('refuses a buffer of another size before reading anything', async () => {
    const reading = artifactBytes(store, digests, pieceLength, 0, 10, new Uint8Array(blockBytes - 1));
    await assert.rejects(reading.next(), RangeError);
  });
});
