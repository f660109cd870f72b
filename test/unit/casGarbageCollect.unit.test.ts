import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, unlink, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContentStore } from '../../src/cas/contentStore.ts';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('garbageCollect', () => {
  let base: string;
  let store: ContentStore;
  /** Five 100-byte chunks, chunk i last used at second 1000 + i: chunk 0 is the oldest. */
  let chunks: string[];

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'cas-gc-'));
    store = await ContentStore.open(join(base, 'cas'));
    chunks = [];
    for (let index = 0; index < 5; index++) {
      const bytes = Buffer.alloc(100, index);
      chunks.push(sha256(bytes));
      await store.putChunk(sha256(bytes), bytes);
      await setLastUsed(chunkFile(sha256(bytes)), 1000 + index);
    }
  });
  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  const chunkFile = (digest: string): string => join(store.root, 'chunks', digest.slice(0, 2), digest);
  const setLastUsed = (path: string, seconds: number) => utimes(path, seconds, seconds);

  it('does nothing at or below the high watermark', async () => {
    const result = await store.garbageCollect({ highWatermarkBytes: 500, lowWatermarkBytes: 100 });
    assert.deepEqual(result, { usedBytesBefore: 500, usedBytesAfter: 500, removed: [], removedPartials: [] });
  });

  it('above the high watermark, removes the least recently used until at the low watermark', async () => {
    const result = await store.garbageCollect({ highWatermarkBytes: 450, lowWatermarkBytes: 300 });
    assert.deepEqual(result.removed.map((entry) => entry.sha256), [chunks[0], chunks[1]]);
    assert.equal(result.usedBytesAfter, 300);
    assert.equal(await store.hasChunk(chunks[0]!), false);
    assert.equal(await store.hasChunk(chunks[2]!), true);
    assert.equal(store.stats().gcRemovedBytes, 200);
  });

  it('a chunk claimed again becomes recent: putting it again touches it', async () => {
    await store.putChunk(chunks[0]!, Buffer.alloc(100, 0));
    const result = await store.garbageCollect({ highWatermarkBytes: 450, lowWatermarkBytes: 400 });
    assert.deepEqual(result.removed.map((entry) => entry.sha256), [chunks[1]]);
  });

  it('pinned chunks and objects stay, however old; unpinning releases them', async () => {
    await store.pin('transfer-1', { chunks: [chunks[0]!, chunks[1]!], objects: [] });
    const result = await store.garbageCollect({ highWatermarkBytes: 0, lowWatermarkBytes: 0 });
    assert.deepEqual(result.removed.map((entry) => entry.sha256).sort(), [chunks[2], chunks[3], chunks[4]].sort());
    assert.equal(result.usedBytesAfter, 200);

    assert.equal(await store.unpin('transfer-1'), true);
    assert.equal(await store.unpin('transfer-1'), false);
    const after = await store.garbageCollect({ highWatermarkBytes: 0, lowWatermarkBytes: 0 });
    assert.equal(after.removed.length, 2);
    assert.equal(after.usedBytesAfter, 0);
  });

  it('an object materialized with a pin stays while its link lives, and goes once the link is removed', async () => {
    const bytes = Buffer.alloc(300, 9);
    await store.putChunk(sha256(bytes), bytes);
    const destination = join(base, 'dest', 'model.bin');
    await store.materialize({ files: [{ path: 'model.bin', length: 300, sha256: sha256(bytes) }], pieceLength: 512, pieceSha256: [sha256(bytes)], destination, pin: 'transfer-2' });
    await setLastUsed(store.objectPath(sha256(bytes)), 1);

    const kept = await store.garbageCollect({ highWatermarkBytes: 0, lowWatermarkBytes: 0 });
    assert.ok(!kept.removed.some((entry) => entry.kind === 'object'), 'the linked object is pinned');
    assert.deepEqual(await readFile(destination), bytes);

    await unlink(destination);
    const released = await store.garbageCollect({ highWatermarkBytes: 0, lowWatermarkBytes: 0 });
    assert.deepEqual(released.removed, [{ kind: 'object', sha256: sha256(bytes), bytes: 300 }]);
  });

  it('pin() keeps the links materialize recorded under the same name', async () => {
    const bytes = Buffer.alloc(50, 3);
    await store.putChunk(sha256(bytes), bytes);
    const destination = join(base, 'dest', 'small.bin');
    await store.materialize({ files: [{ path: 'small.bin', length: 50, sha256: sha256(bytes) }], pieceLength: 64, pieceSha256: [sha256(bytes)], destination, pin: 'transfer-3' });
    await store.pin('transfer-3', { chunks: [sha256(bytes)], objects: [] });
    const result = await store.garbageCollect({ highWatermarkBytes: 0, lowWatermarkBytes: 0 });
    assert.ok(!result.removed.some((entry) => entry.sha256 === sha256(bytes)));
  });

  it('refuses watermarks out of order and unsafe pin names', async () => {
    await assert.rejects(store.garbageCollect({ highWatermarkBytes: 10, lowWatermarkBytes: 20 }), RangeError);
    await assert.rejects(store.garbageCollect({ highWatermarkBytes: 10, lowWatermarkBytes: -1 }), RangeError);
    for (const name of ['../x', '', '.hidden', 'a/b']) await assert.rejects(store.pin(name, { chunks: [], objects: [] }), TypeError);
    await assert.rejects(store.pin('ok', { chunks: ['../../x'], objects: [] }), TypeError);
  });
});
