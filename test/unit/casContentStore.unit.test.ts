import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { ChunkDigestMismatchError, ChunkNotFoundError } from '../../src/cas/casErrors.ts';
import { createCasMetrics } from '../../src/cas/casMetrics.ts';
import { ContentStore } from '../../src/cas/contentStore.ts';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

async function listTree(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => !entry.isDirectory()).map((entry) => join(entry.parentPath, entry.name));
}

describe('ContentStore', () => {
  let base: string;
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'cas-store-'));
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });
  let counter = 0;
  const freshRoot = (): string => join(base, `root-${counter++}`);

  it('creates chunks/, objects/, tmp/ and pins/ under the root', async () => {
    const store = await ContentStore.open(freshRoot());
    for (const directory of ['chunks', 'objects', 'tmp', 'pins']) assert.ok((await stat(join(store.root, directory))).isDirectory());
    assert.ok((await stat(join(store.root, 'chunks', 'ab'))).isDirectory());
  });

  it('stores a verified chunk under chunks/<aa>/<sha256>, read-only, and reads it back whole or in part', async () => {
    const store = await ContentStore.open(freshRoot());
    const bytes = Buffer.from('the quick brown fox');
    const digest = sha256(bytes);
    assert.equal(await store.hasChunk(digest), false);
    assert.equal(await store.putChunk(digest, bytes), 'stored');
    assert.equal(await store.hasChunk(digest), true);
    const file = join(store.root, 'chunks', digest.slice(0, 2), digest);
    assert.equal((await stat(file)).mode & 0o777, 0o444);
    assert.deepEqual(await store.readChunk(digest), bytes);
    assert.deepEqual(await store.readChunk(digest, 4, 5), Buffer.from('quick'));
    assert.deepEqual(await store.readChunk(digest, 16), Buffer.from('fox'));
    await assert.rejects(store.readChunk(digest, 16, 4), RangeError);
    assert.deepEqual(await listTree(join(store.root, 'tmp')), []);
  });

  it('refuses bytes that do not hash to the digest, and stores nothing', async () => {
    const store = await ContentStore.open(freshRoot());
    const claimed = sha256(Buffer.from('what the manifest says'));
    await assert.rejects(store.putChunk(claimed, Buffer.from('what a peer sent')), (error: unknown) => {
      assert.ok(error instanceof ChunkDigestMismatchError);
      assert.equal(error.expected, claimed);
      assert.equal(error.actual, sha256(Buffer.from('what a peer sent')));
      return true;
    });
    assert.equal(await store.hasChunk(claimed), false);
    assert.deepEqual(await listTree(join(store.root, 'chunks')), []);
    assert.deepEqual(await listTree(join(store.root, 'tmp')), []);
    assert.equal(store.stats().verifyFailures, 1);
  });

  it('refuses a digest that is not 64 lower-case hex characters before touching the disk', async () => {
    const store = await ContentStore.open(freshRoot());
    for (const digest of ['../../etc/passwd', 'AB'.repeat(32), 'a'.repeat(63), '']) {
      await assert.rejects(store.putChunk(digest, Buffer.from('x')), TypeError);
      await assert.rejects(store.hasChunk(digest), TypeError);
      await assert.rejects(store.readChunk(digest), TypeError);
    }
  });

  it('a missing chunk is a ChunkNotFoundError', async () => {
    const store = await ContentStore.open(freshRoot());
    await assert.rejects(store.readChunk('0'.repeat(64)), ChunkNotFoundError);
  });

  it('dedupes: a chunk already there is not rewritten and counts as deduplicated bytes', async () => {
    const registry = new Registry();
    const store = await ContentStore.open(freshRoot(), { metrics: createCasMetrics(registry) });
    const bytes = Buffer.alloc(1000, 7);
    const digest = sha256(bytes);
    assert.equal(await store.putChunk(digest, bytes), 'stored');
    const first = await stat(join(store.root, 'chunks', digest.slice(0, 2), digest));
    assert.equal(await store.putChunk(digest, bytes), 'present');
    const second = await stat(join(store.root, 'chunks', digest.slice(0, 2), digest));
    assert.equal(second.ino, first.ino, 'the file was not replaced');
    assert.deepEqual(store.stats(), { chunksStored: 1, storedBytes: 1000, dedupBytes: 1000, verifyFailures: 0, gcRemovedBytes: 0 });
    const text = await registry.metrics();
    assert.match(text, /torrentedge_cas_chunks_stored_total 1/);
    assert.match(text, /torrentedge_cas_dedup_bytes_total 1000/);
  });

  it('replace writes a chunk known to be damaged over the file there', async () => {
    const store = await ContentStore.open(freshRoot());
    const bytes = Buffer.alloc(1000, 9);
    const digest = sha256(bytes);
    await store.putChunk(digest, bytes);
    const path = join(store.root, 'chunks', digest.slice(0, 2), digest);
    await chmod(path, 0o644);
    await writeFile(path, Buffer.alloc(1000, 1));
    const chunk = store.verifyChunk(digest, bytes);
    assert.equal(await store.putVerifiedChunk(chunk), 'present', 'without replace the file there is kept');
    assert.equal(await store.putVerifiedChunk(chunk, { replace: true }), 'stored');
    assert.ok((await store.readChunk(digest)).equals(bytes));
  });

  it('concurrent puts of one digest write it once', async () => {
    const store = await ContentStore.open(freshRoot());
    const bytes = Buffer.alloc(4096, 1);
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => store.putChunk(sha256(bytes), bytes)));
    assert.deepEqual(outcomes.toSorted(), ['present', 'present', 'present', 'present', 'stored']);
    assert.equal(store.stats().chunksStored, 1);
  });

  it('a tmp file left by a crashed writer is never visible as a chunk, and open() removes it', async () => {
    const root = freshRoot();
    const store = await ContentStore.open(root);
    const bytes = Buffer.from('half-written chunk');
    const digest = sha256(bytes);
    // A writer killed between write and rename leaves exactly this: a file in tmp/.
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    const stale = [`${deadPid}.0123456789abcdef.tmp`, `${process.pid}.fedcba9876543210.tmp`, 'junk'];
    for (const name of stale) await writeFile(join(store.root, 'tmp', name), bytes);
    assert.equal(await store.hasChunk(digest), false);
    await assert.rejects(store.readChunk(digest), ChunkNotFoundError);

    const reopened = await ContentStore.open(root);
    assert.deepEqual(await readdir(join(reopened.root, 'tmp')), []);
    assert.equal(await reopened.hasChunk(digest), false);
    assert.equal(await reopened.putChunk(digest, bytes), 'stored');
  });

  it("open() keeps the tmp files of another live process", async () => {
    const root = freshRoot();
    const store = await ContentStore.open(root);
    const live = `${process.ppid}.0123456789abcdef.tmp`;
    await writeFile(join(store.root, 'tmp', live), 'in flight');
    await ContentStore.open(root);
    assert.deepEqual(await readdir(join(store.root, 'tmp')), [live]);
  });
});
