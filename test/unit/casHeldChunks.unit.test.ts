import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, link, mkdtemp, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ChunkDigestMismatchError } from '../../src/cas/casErrors.ts';
import { CasChunkStore } from '../../src/cas/casChunkStore.ts';
import { ContentStore } from '../../src/cas/contentStore.ts';
import { createObjectBuilders } from '../../src/cas/objectBuilders.ts';
import { VerifiedChunk } from '../../src/cas/verifiedChunk.ts';

const pieceLength = 64 * 1024;
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

// Two files in a stream of 7 pieces: piece 3 holds the end of a.bin and the start of b.bin.
const a = randomBytes(3 * pieceLength + 1000);
const b = randomBytes(3 * pieceLength + 5000);
const stream = Buffer.concat([a, b]);
const pieces = Array.from({ length: Math.ceil(stream.length / pieceLength) }, (_, i) => stream.subarray(i * pieceLength, (i + 1) * pieceLength));
const pieceSha256 = pieces.map(sha256);
const straddling = 3;
const files = [
  { path: 'model/a.bin', length: a.length, sha256: sha256(a) },
  { path: 'model/b.bin', length: b.length, sha256: sha256(b) },
];
const chunk = (index: number): VerifiedChunk => VerifiedChunk.of(Buffer.from(pieces[index]!));

describe('chunks held in the artifact\'s files: one write per byte', () => {
  let base: string;
  let store: ContentStore;
  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'cas-held-'));
    store = await ContentStore.open(join(base, 'cas'));
  });
  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  const chunkFiles = async (on = store): Promise<string[]> =>
    (await readdir(on.layout.chunks, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile()).map((entry) => entry.name);
  const materialize = (on: ContentStore, objects: ReturnType<typeof createObjectBuilders>, out: string) =>
    on.materialize({ files, pieceLength, pieceSha256, destination: join(base, out), layout: 'directory', builders: objects.forFiles() });
  const assertAllReadable = async (on: ContentStore): Promise<void> => {
    for (const [index, digest] of pieceSha256.entries()) {
      assert.equal(await on.chunkSize(digest), pieces[index]!.length, `piece ${index} is found`);
      assert.ok((await on.readChunk(digest)).equals(pieces[index]!), `piece ${index} reads back`);
      assert.ok((await on.readChunk(digest, 100, 50)).equals(pieces[index]!.subarray(100, 150)), `a block of piece ${index} reads back`);
    }
  };

  it('writes a piece inside one file only into that file, where it is found by its digest; one that spans two goes to chunks/ too', async () => {
    const objects = createObjectBuilders(store, { partialKey: 'job-1' });
    await objects.plan(pieceLength, files);
    for (const index of [5, 0, 3, 6, 1, 4, 2]) assert.equal(await objects.storePiece(index, chunk(index)), 'stored');
    assert.deepEqual(await chunkFiles(), [pieceSha256[straddling]], 'only the piece that spans both files is a chunk file');
    await assertAllReadable(store);
    assert.equal(store.stats().storedBytes, stream.length, 'every piece counts as stored');

    const result = await materialize(store, objects, 'out');
    assert.deepEqual(result.map((file) => file.built), [true, true]);
    assert.ok((await readFile(join(base, 'out/model/a.bin'))).equals(a));
    assert.ok((await readFile(join(base, 'out/model/b.bin'))).equals(b));
    await assertAllReadable(store);
    await objects.discardAll();
    assert.deepEqual(await readdir(store.layout.partial), [], 'the job\'s files went with it, published or not');
    assert.equal((await stat(store.objectPath(files[0]!.sha256))).mode & 0o777, 0o444, 'a published object is read-only');

    const reopened = await ContentStore.open(store.root);
    await assertAllReadable(reopened);
  });

  it('resumes after a restart with the pieces that still match, and downloads the rest', async () => {
    const first = createObjectBuilders(store, { partialKey: 'job-2' });
    await first.plan(pieceLength, files);
    for (const index of [0, 1, 5]) await first.storePiece(index, chunk(index));
    // Piece 1's bytes are damaged on disk before the restart (the journal still lists it).
    const kept = await open(join(store.layout.partial, 'job-2', '0'), 'r+');
    await kept.write(Buffer.from('damaged'), 0, 7, pieceLength + 10);
    await kept.close();

    const restarted = await ContentStore.open(store.root);
    assert.equal(await restarted.hasChunk(pieceSha256[0]!), false, 'nothing is found before the job plans its files again');
    const second = createObjectBuilders(restarted, { partialKey: 'job-2' });
    await second.plan(pieceLength, files);
    assert.equal(await restarted.hasChunk(pieceSha256[0]!), true);
    assert.equal(await restarted.hasChunk(pieceSha256[5]!), true);
    assert.equal(await restarted.hasChunk(pieceSha256[1]!), false, 'a piece whose bytes changed is not trusted');
    for (const index of [1, 2, 3, 4, 6]) await second.storePiece(index, chunk(index));
    const result = await materialize(restarted, second, 'out');
    assert.deepEqual(result.map((file) => file.built), [true, true]);
    assert.ok((await readFile(join(base, 'out/model/a.bin'))).equals(a));
  });

  it('starts afresh when the kept files were planned for another layout', async () => {
    const first = createObjectBuilders(store, { partialKey: 'job-3' });
    await first.plan(pieceLength, files);
    await first.storePiece(0, chunk(0));
    const other = createObjectBuilders(await ContentStore.open(store.root), { partialKey: 'job-3' });
    await other.plan(pieceLength, [{ path: 'one.bin', length: stream.length }]);
    assert.deepEqual((await readdir(join(store.layout.partial, 'job-3'))).sort(), ['layout.json']);
  });

  it('a job that ends without materializing leaves nothing, and its chunks are no longer found', async () => {
    const objects = createObjectBuilders(store, { partialKey: 'job-4' });
    await objects.plan(pieceLength, files);
    await objects.storePiece(0, chunk(0));
    await objects.discardAll();
    assert.equal(await store.hasChunk(pieceSha256[0]!), false);
    assert.deepEqual(await readdir(store.layout.partial), []);
  });

  it('a drained job keeps its files, and finds its pieces again when it plans them', async () => {
    const objects = createObjectBuilders(store, { partialKey: 'job-5' });
    await objects.plan(pieceLength, files);
    await objects.storePiece(2, chunk(2));
    await objects.closeAll();
    assert.equal(await store.hasChunk(pieceSha256[2]!), false, 'released while no job holds the file');
    const again = createObjectBuilders(store, { partialKey: 'job-5' });
    await again.plan(pieceLength, files);
    assert.equal(await store.hasChunk(pieceSha256[2]!), true);
    await again.discardAll();
  });

  it('a second job for a file already published finds its chunks in that object after it is done', async () => {
    const first = createObjectBuilders(store, { partialKey: 'job-6' });
    await first.plan(pieceLength, files);
    for (const index of pieces.keys()) await first.storePiece(index, chunk(index));
    await materialize(store, first, 'out-1');
    await first.discardAll();

    // The same file, in another artifact layout, downloaded by another job: the object exists.
    const second = createObjectBuilders(store, { partialKey: 'job-7' });
    const single = [{ path: 'a.bin', length: a.length, sha256: files[0]!.sha256 }];
    const aPieces = Array.from({ length: Math.ceil(a.length / pieceLength) }, (_, i) => a.subarray(i * pieceLength, (i + 1) * pieceLength));
    await second.plan(pieceLength, single);
    for (const [index, piece] of aPieces.entries()) await second.storePiece(index, VerifiedChunk.of(Buffer.from(piece)));
    const result = await store.materialize({ files: single, pieceLength, pieceSha256: aPieces.map(sha256), destination: join(base, 'out-2'), layout: 'directory', builders: second.forFiles() });
    assert.deepEqual(result.map((file) => file.built), [false]);
    await second.discardAll();
    const last = aPieces.at(-1)!;
    assert.ok((await store.readChunk(sha256(last))).equals(last), 'the short last piece of a.bin is found in the object');
    assert.ok((await (await ContentStore.open(store.root)).readChunk(sha256(last))).equals(last), 'and after a restart');
  });

  it('garbage collection takes an object\'s chunks with it, and a pinned chunk keeps its object', async () => {
    const objects = createObjectBuilders(store, { partialKey: 'job-8' });
    await objects.plan(pieceLength, files);
    for (const index of pieces.keys()) await objects.storePiece(index, chunk(index));
    await materialize(store, objects, 'out');
    await objects.discardAll();
    await rm(join(base, 'out'), { recursive: true });

    await store.pin('transfer-x', { chunks: [pieceSha256[0]!], objects: [] });
    await store.garbageCollect({ highWatermarkBytes: 0, lowWatermarkBytes: 0 });
    assert.equal(await store.hasObject(files[0]!.sha256), true, 'a.bin holds a pinned chunk');
    assert.equal(await store.hasObject(files[1]!.sha256), false);
    assert.equal(await store.hasChunk(pieceSha256[5]!), false, 'b.bin\'s chunks went with it');
    assert.equal(await store.hasChunk(pieceSha256[0]!), true);
    assert.equal(await (await ContentStore.open(store.root)).hasChunk(pieceSha256[5]!), false, 'its map went too');

    await store.unpin('transfer-x');
    await store.garbageCollect({ highWatermarkBytes: 0, lowWatermarkBytes: 0 });
    assert.equal(await store.hasChunk(pieceSha256[0]!), false);
    const left = (await readdir(store.layout.objects, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
    assert.deepEqual(left, [], 'no object and no map is left');
  });

  it('a segment\'s store hands checked pieces to storePiece, and refuses bytes that do not match before it', async () => {
    const objects = createObjectBuilders(store, { partialKey: 'job-9' });
    await objects.plan(pieceLength, files);
    const handed: number[] = [];
    const segment = new CasChunkStore(pieceLength, {
      cas: store,
      pieceSha256,
      storePiece: (index, checked) => {
        handed.push(index);
        return objects.storePiece(index, checked);
      },
    });
    const put = promisify((index: number, buf: Buffer, cb: (error: Error | null) => void) => segment.put(index, buf, cb));
    await put(0, Buffer.from(pieces[0]!));
    assert.equal(await store.hasChunk(pieceSha256[0]!), true);
    assert.deepEqual(await chunkFiles(), [], 'held in a.bin, not written to chunks/');
    await assert.rejects(put(1, Buffer.from(pieces[2]!)), ChunkDigestMismatchError);
    assert.deepEqual(handed, [0], 'the wrong bytes never reached storePiece');
    await objects.discardAll();
  });
});

describe('garbage collection of partial/', () => {
  it('removes the files of a job no one here is running, counted in the usage, and spares a running job\'s', async () => {
    const base = await mkdtemp(join(tmpdir(), 'cas-partial-gc-'));
    try {
      const store = await ContentStore.open(join(base, 'cas'));
      const running = createObjectBuilders(store, { partialKey: 'job-running' });
      await running.plan(pieceLength, files);
      await running.storePiece(0, chunk(0));
      const left = createObjectBuilders(store, { partialKey: 'job-left' });
      await left.plan(pieceLength, files);
      await left.storePiece(1, chunk(1));
      await left.closeAll(); // drained, and never taken up again
      const result = await store.garbageCollect({ highWatermarkBytes: 0, lowWatermarkBytes: 0 });
      assert.deepEqual(result.removedPartials.map((entry) => entry.name), ['job-left']);
      assert.ok(result.removedPartials[0]!.bytes >= pieceLength, 'its bytes were counted');
      assert.deepEqual((await readdir(store.layout.partial)).sort(), ['job-running']);
      assert.equal(await store.hasChunk(pieceSha256[0]!), true, 'the running job\'s piece is still found');
      await running.discardAll();
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});

describe('chunks held in files: faults', () => {
  let base: string;
  let store: ContentStore;
  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'cas-held-faults-'));
    store = await ContentStore.open(join(base, 'cas'));
  });
  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });
  const materialize = (objects: ReturnType<typeof createObjectBuilders>, out: string) =>
    store.materialize({ files, pieceLength, pieceSha256, destination: join(base, out), layout: 'directory', builders: objects.forFiles() });

  it('a builder that failed stores later pieces in chunks/, and materialize builds the files from them', async () => {
    const objects = createObjectBuilders(store, { partialKey: 'job-f1' });
    await objects.plan(pieceLength, files);
    objects.pieceStored(0, pieceSha256[0]!); // not in this CAS: a.bin's copy fails
    await objects.sha256s(pieceSha256);
    for (const index of [1, 2, 4, 5, 6, 3, 0]) assert.equal(await objects.storePiece(index, chunk(index)), 'stored');
    assert.equal(await store.hasChunk(pieceSha256[1]!), true);
    await materialize(objects, 'out');
    assert.ok((await readFile(join(base, 'out/model/a.bin'))).equals(a));
    assert.ok((await readFile(join(base, 'out/model/b.bin'))).equals(b));
    await objects.discardAll();
    for (const [index, digest] of pieceSha256.entries()) assert.ok((await store.readChunk(digest)).equals(pieces[index]!), `piece ${index} is still found`);
  });

  it('a held chunk found damaged and stored again is read from its new place, not the damaged one', async () => {
    const objects = createObjectBuilders(store, { partialKey: 'job-f2' });
    await objects.plan(pieceLength, files);
    await objects.storePiece(0, chunk(0));
    const kept = await open(join(store.layout.partial, 'job-f2', '0'), 'r+');
    await kept.write(Buffer.from('damaged'), 0, 7, 10);
    await kept.close();
    assert.notEqual(sha256(await store.readChunk(pieceSha256[0]!)), pieceSha256[0], 'the damage is read back first');
    await store.putVerifiedChunk(chunk(0), { replace: true });
    assert.ok((await store.readChunk(pieceSha256[0]!)).equals(pieces[0]!));
    await objects.discardAll();
  });

  it('a chunk of a published object found damaged and stored again stays read from chunks/ after a restart', async () => {
    const objects = createObjectBuilders(store, { partialKey: 'job-f11' });
    await objects.plan(pieceLength, files);
    for (const index of pieces.keys()) await objects.storePiece(index, chunk(index));
    await materialize(objects, 'out');
    await objects.discardAll();
    const object = store.objectPath(files[0]!.sha256);
    await chmod(object, 0o644);
    const damaged = await open(object, 'r+');
    await damaged.write(Buffer.from('damaged'), 0, 7, 10);
    await damaged.close();
    await store.putVerifiedChunk(chunk(0), { replace: true });
    const restarted = await ContentStore.open(store.root);
    assert.ok((await restarted.readChunk(pieceSha256[0]!)).equals(pieces[0]!));
    assert.ok((await restarted.readChunk(pieceSha256[1]!)).equals(pieces[1]!), 'the object\'s other chunks are still found in it');
  });

  // The other job may have found a chunk in these files and be about to copy it.
  for (const [stop, why] of [['discardAll', 'ends'], ['closeAll', 'stops to go on later']] as const) {
    it(`a job that ${why} while another runs here leaves its chunks in chunks/ too`, async () => {
      const stopping = createObjectBuilders(store, { partialKey: `job-${stop}` });
      await stopping.plan(pieceLength, files);
      await stopping.storePiece(0, chunk(0));
      const running = createObjectBuilders(store, { partialKey: `job-${stop}-other` });
      await running.plan(pieceLength, [{ path: 'other.bin', length: pieceLength }]);
      await stopping[stop]();
      assert.ok((await store.readChunk(pieceSha256[0]!)).equals(pieces[0]!));
      await running.discardAll();
    });
  }

  it('a kept piece written again with other bytes (the origin changed) is found under its new digest only', async () => {
    const first = createObjectBuilders(store, { partialKey: 'job-f3' });
    await first.plan(pieceLength, files);
    await first.storePiece(0, chunk(0));
    await first.closeAll();
    const again = createObjectBuilders(store, { partialKey: 'job-f3' });
    await again.plan(pieceLength, files);
    const other = VerifiedChunk.of(randomBytes(pieceLength));
    await again.storePiece(0, other);
    assert.equal(await store.hasChunk(pieceSha256[0]!), false, 'the old digest is no longer found where its bytes were written over');
    assert.ok((await store.readChunk(other.sha256)).equals(other.bytes));
    await again.discardAll();
  });

  it('a kept piece announced from the CAS under another digest is copied over, and its old digest dropped', async () => {
    const first = createObjectBuilders(store, { partialKey: 'job-f14' });
    await first.plan(pieceLength, files);
    await first.storePiece(0, chunk(0));
    await first.closeAll();
    const other = VerifiedChunk.of(randomBytes(pieceLength));
    await store.putVerifiedChunk(other);
    const again = createObjectBuilders(store, { partialKey: 'job-f14' });
    await again.plan(pieceLength, files);
    again.pieceStored(0, other.sha256);
    await again.sha256s([other.sha256]);
    assert.equal(await store.hasChunk(pieceSha256[0]!), false);
    const kept = await readFile(join(store.layout.partial, 'job-f14', '0'));
    assert.ok(kept.subarray(0, pieceLength).equals(other.bytes), 'the file holds the new bytes');
    await again.discardAll();
  });

  it('after a crash between linking the object and unlinking the kept file, the job leaves the object as it is', async () => {
    const first = createObjectBuilders(store, { partialKey: 'job-f4' });
    await first.plan(pieceLength, files);
    for (const index of pieces.keys()) await first.storePiece(index, chunk(index));
    await materialize(first, 'out-1');
    // As if killed after the link: the kept name is a second link to the object.
    await link(store.objectPath(files[0]!.sha256), join(store.layout.partial, 'job-f4', '0'));
    const restarted = await ContentStore.open(store.root);
    const again = createObjectBuilders(restarted, { partialKey: 'job-f4' });
    await again.plan(pieceLength, files);
    assert.equal((await stat(restarted.objectPath(files[0]!.sha256))).nlink, 1, 'the kept name is gone');
    const result = await restarted.materialize({ files, pieceLength, pieceSha256, destination: join(base, 'out-2'), layout: 'directory', builders: again.forFiles() });
    assert.deepEqual(result.map((file) => file.built), [false, false]);
    assert.ok((await readFile(restarted.objectPath(files[0]!.sha256))).equals(a), 'the object is unchanged');
    await again.discardAll();
  });

  it('a piece copied in from another job\'s file is held in this one\'s too', async () => {
    const one = createObjectBuilders(store, { partialKey: 'job-f7' });
    await one.plan(pieceLength, files);
    await one.storePiece(0, chunk(0));
    const two = createObjectBuilders(store, { partialKey: 'job-f8' });
    await two.plan(pieceLength, files);
    two.pieceStored(0, pieceSha256[0]!);
    await two.sha256s([pieceSha256[0]!]);
    await one.closeAll();
    assert.ok((await store.readChunk(pieceSha256[0]!)).equals(pieces[0]!), 'found in the second job\'s file');
    await two.discardAll();
  });

  it('reads of held chunks go on while their file is published and while another job\'s file is discarded', async () => {
    const objects = createObjectBuilders(store, { partialKey: 'job-f10' });
    await objects.plan(pieceLength, files);
    for (const index of pieces.keys()) await objects.storePiece(index, chunk(index));
    let reading = true;
    const failures: unknown[] = [];
    const reads: Promise<void>[] = Array.from({ length: 4 }, async (_, lane) => {
      for (let round = 0; reading || round < 3; round++) {
        const index = (lane + round) % pieces.length;
        const bytes = await store.readChunk(pieceSha256[index]!).catch((error: unknown) => void failures.push(error));
        if (bytes !== undefined && !bytes.equals(pieces[index]!)) failures.push(new Error(`piece ${index} read wrong bytes`));
      }
    });
    await materialize(objects, 'out');
    await objects.discardAll();
    reading = false;
    await Promise.all(reads);
    assert.deepEqual(failures, []);
  });

  it('an object whose file held no whole piece is published read-only too', async () => {
    const small = [{ path: 'small.bin', length: 1000, sha256: sha256(stream.subarray(0, 1000)) }, { path: 'rest.bin', length: stream.length - 1000, sha256: sha256(stream.subarray(1000)) }];
    const objects = createObjectBuilders(store, { partialKey: 'job-f9' });
    await objects.plan(pieceLength, small);
    for (const index of pieces.keys()) await objects.storePiece(index, chunk(index));
    await store.materialize({ files: small, pieceLength, pieceSha256, destination: join(base, 'out'), layout: 'directory', builders: objects.forFiles() });
    assert.equal((await stat(store.objectPath(small[0]!.sha256))).mode & 0o777, 0o444);
    await objects.discardAll();
  });
});
