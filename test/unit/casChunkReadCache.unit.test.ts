import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChunkReadCache } from '../../src/cas/chunkReadCache.ts';
import { ContentStore } from '../../src/cas/contentStore.ts';

const block = 16 * 1024;
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const chunkOf = (length: number, seed: number): Buffer => Buffer.from(Array.from({ length }, (_, at) => (at * 31 + seed) & 0xff));

describe('ChunkReadCache', () => {
  let base: string;
  let cas: ContentStore;
  /** Every readChunk the cache makes, as [offset, length]. */
  let reads: Array<[number, number]>;
  const chunks = Array.from({ length: 8 }, (_, index) => chunkOf(8 * block, index));
  const digests = chunks.map(sha256);

  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'cas-read-cache-'));
    cas = await ContentStore.open(join(base, 'cas'));
    for (const [index, chunk] of chunks.entries()) await cas.putChunk(digests[index]!, chunk);
    const readChunk = cas.readChunk.bind(cas);
    cas.readChunk = (digest: string, offset?: number, length?: number, into?: Uint8Array) => {
      reads.push([offset ?? 0, length ?? -1]);
      return readChunk(digest, offset, length, into);
    };
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('serves the blocks of a window from one read, concurrent requests included', async () => {
    reads = [];
    const cache = new ChunkReadCache({ maxWindowBytes: 4 * block, maxBytes: 16 * block });
    const blocks = await Promise.all(Array.from({ length: 8 }, (_, index) => cache.read(cas, digests[0]!, 8 * block, index * block, block)));
    for (const [index, bytes] of blocks.entries()) assert.deepEqual(bytes, chunks[0]!.subarray(index * block, (index + 1) * block));
    assert.deepEqual(reads, [[0, 4 * block], [4 * block, 4 * block]]);
  });

  it('clips the last window to the chunk, and reads directly what no window holds', async () => {
    reads = [];
    const cache = new ChunkReadCache({ maxWindowBytes: 4 * block, maxBytes: 16 * block });
    const short = 5 * block + 100;
    assert.deepEqual(await cache.read(cas, digests[1]!, short, 5 * block, 100), chunks[1]!.subarray(5 * block, 5 * block + 100));
    assert.deepEqual(reads, [[4 * block, block + 100]]);
    reads = [];
    assert.deepEqual(await cache.read(cas, digests[1]!, 8 * block, 3 * block, 2 * block), chunks[1]!.subarray(3 * block, 5 * block));
    assert.deepEqual(reads, [[3 * block, 2 * block]], 'a range across two windows is one direct read');
    await assert.rejects(cache.read(cas, digests[1]!, 8 * block, 8 * block, block), RangeError);
  });

  it('shrinks its windows when readers outnumber the budget, and grows them back when they are used up', async () => {
    const cache = new ChunkReadCache({ maxWindowBytes: 4 * block, maxBytes: 8 * block });
    // Eight readers, one per chunk, each a block at a time: two windows fit, so each is evicted after one block.
    for (let round = 0; round < 2; round++) {
      for (const digest of digests) await cache.read(cas, digest, 8 * block, round * block, block);
    }
    assert.equal(cache.windowBytes, block, 'down to plain block reads');
    reads = [];
    for (const digest of digests) await cache.read(cas, digest, 8 * block, 2 * block, block);
    assert.deepEqual(reads, Array.from({ length: 8 }, () => [2 * block, block]), 'no read-ahead is wasted');

    // One reader going through the chunks in order uses every window up.
    for (let pass = 0; pass < 2; pass++) {
      for (const digest of digests) for (let at = 0; at < 8 * block; at += block) await cache.read(cas, digest, 8 * block, at, block);
    }
    assert.equal(cache.windowBytes, 4 * block);
  });

  it('does not keep a failed read', async () => {
    reads = [];
    const cache = new ChunkReadCache({ maxWindowBytes: 4 * block, maxBytes: 16 * block });
    const missing = sha256(Buffer.from('not stored'));
    await assert.rejects(cache.read(cas, missing, 8 * block, 0, block));
    await assert.rejects(cache.read(cas, missing, 8 * block, block, block));
    assert.equal(reads.length, 2);
  });

  it('reads into a window\'s buffer again only once it is evicted and every reader handed its bytes back', async () => {
    const cache = new ChunkReadCache({ maxWindowBytes: 4 * block, maxBytes: 4 * block });
    /** A whole window's blocks, in order (so the window size stays), each checked. */
    const readWindow = async (chunk: number): Promise<Buffer[]> => {
      const blocks: Buffer[] = [];
      for (let at = 0; at < 4 * block; at += block) blocks.push(await cache.read(cas, digests[chunk]!, 8 * block, at, block));
      for (const [index, bytes] of blocks.entries()) assert.ok(bytes.equals(chunks[chunk]!.subarray(index * block, (index + 1) * block)), `chunk ${chunk} block ${index}`);
      return blocks;
    };
    const first = await readWindow(2);
    for (const bytes of first.slice(1)) cache.done(bytes);
    const second = await readWindow(3); // evicts the first window
    assert.ok(second[0]!.buffer !== first[0]!.buffer, 'one reader of the first window has not handed back');
    assert.ok(first[0]!.equals(chunks[2]!.subarray(0, block)), 'and its bytes are intact');
    cache.done(first[0]!);
    for (const bytes of second) cache.done(bytes);
    const third = await readWindow(4); // evicts the second window
    assert.ok(third[0]!.buffer === first[0]!.buffer, 'the first window\'s buffer, read into again');
    for (const bytes of third) cache.done(bytes);
    cache.done(third[0]!); // a second hand-back of the same bytes changes nothing
    const fourth = await readWindow(5);
    assert.ok(fourth[0]!.buffer === second[0]!.buffer);
  });

  it('refuses a window that is not a power of two of at least a block, or a budget below one window', () => {
    assert.throws(() => new ChunkReadCache({ maxWindowBytes: 3 * block }), RangeError);
    assert.throws(() => new ChunkReadCache({ maxWindowBytes: 1024 }), RangeError);
    assert.throws(() => new ChunkReadCache({ maxWindowBytes: 4 * block, maxBytes: block }), RangeError);
  });
});
