import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstat, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContentStore } from '../../src/cas/contentStore.ts';
import { TorrentEdgeError } from '../../src/errors.ts';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const isStale = (error: unknown): boolean => error instanceof TorrentEdgeError && error.code === 'TE_ERR_STALE_FENCING_TOKEN';

describe('CAS fences: materialization checks the fencing token where it lands', () => {
  let work: string;
  let store: ContentStore;
  const bytes = Buffer.from('a checkpoint shard, one piece long');
  const shape = { files: [{ path: 'shard.bin', length: bytes.length, sha256: sha256(bytes) }], pieceLength: 64, pieceSha256: [sha256(bytes)] };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'te-fence-'));
    store = await ContentStore.open(join(work, 'cas'));
    await store.putChunk(sha256(bytes), bytes);
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('a raised fence refuses lower tokens, for raising and for materializing; equal and higher pass', async () => {
    await store.raiseFence('cas-a:t-1', 3);
    await store.raiseFence('cas-a:t-1', 3);
    await assert.rejects(store.raiseFence('cas-a:t-1', 2), isStale);
    await assert.rejects(store.materialize({ ...shape, destination: join(work, 'stale'), layout: 'directory', fence: { resource: 'cas-a:t-1', fencingToken: 2 } }), isStale);
    await assert.rejects(lstat(join(work, 'stale', 'shard.bin')), { code: 'ENOENT' }, 'a stale writer places no link');
    await store.materialize({ ...shape, destination: join(work, 'current'), layout: 'directory', fence: { resource: 'cas-a:t-1', fencingToken: 3 } });
    assert.ok((await lstat(join(work, 'current', 'shard.bin'))).isSymbolicLink());
    await store.raiseFence('cas-a:t-1', 7);
    await assert.rejects(store.materialize({ ...shape, destination: join(work, 'after'), layout: 'directory', fence: { resource: 'cas-a:t-1', fencingToken: 3 } }), isStale);
  });

  it('fences of different resources are independent, and survive reopening the store', async () => {
    await store.raiseFence('cas-a:t-2', 1);
    const reopened = await ContentStore.open(join(work, 'cas'));
    await assert.rejects(reopened.raiseFence('cas-a:t-1', 6), isStale);
    await reopened.raiseFence('cas-a:t-2', 2);
  });
});
