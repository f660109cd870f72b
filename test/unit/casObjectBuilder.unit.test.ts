import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileDigestMismatchError } from '../../src/cas/casErrors.ts';
import { ContentStore } from '../../src/cas/contentStore.ts';
import { createObjectBuilders } from '../../src/cas/objectBuilders.ts';
import { waitFor } from '../helpers/waitFor.ts';

const pieceLength = 64 * 1024;
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('objects written as the pieces arrive', () => {
  let base: string;
  let store: ContentStore;
  // Two files in a stream of 5 pieces: piece 2 holds the end of one and the start of the other.
  const a = randomBytes(2 * pieceLength + 1000);
  const b = randomBytes(2 * pieceLength + 5000);
  const stream = Buffer.concat([a, b]);
  const pieces = Array.from({ length: Math.ceil(stream.length / pieceLength) }, (_, i) => stream.subarray(i * pieceLength, (i + 1) * pieceLength));
  const pieceSha256 = pieces.map(sha256);
  const files = [
    { path: 'model/a.bin', length: a.length, sha256: sha256(a) },
    { path: 'model/b.bin', length: b.length, sha256: sha256(b) },
  ];
  const tmpFiles = async (): Promise<string[]> => readdir(store.layout.tmp);

  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'object-builder-'));
    store = await ContentStore.open(join(base, 'cas'));
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('writes each file as its pieces come, in any order, and materialize publishes what they wrote', async () => {
    const objects = createObjectBuilders(store);
    await objects.plan(pieceLength, files);
    for (const index of [3, 0, 4, 2, 1]) {
      await store.putChunk(pieceSha256[index]!, pieces[index]!);
      objects.pieceStored(index, pieceSha256[index]!);
    }
    // Written before materialize is asked: two temp files of the files' lengths.
    const sizes = async (): Promise<number[]> => Promise.all((await tmpFiles()).map(async (name) => (await stat(join(store.layout.tmp, name))).size));
    await waitFor('both files to be written', async () => (await sizes()).toSorted((x, y) => x - y).join() === [a.length, b.length].join());
    const result = await store.materialize({ files, pieceLength, pieceSha256, destination: join(base, 'out-1'), layout: 'directory', builders: objects.forFiles() });
    assert.deepEqual(result.map((file) => file.built), [true, true]);
    assert.ok((await readFile(join(base, 'out-1/model/a.bin'))).equals(a));
    assert.ok((await readFile(join(base, 'out-1/model/b.bin'))).equals(b));
    await objects.discardAll();
    assert.deepEqual(await tmpFiles(), [], 'no temp file is left');
  });

  it('tells each file\'s SHA-256 once its pieces are in, and still hands over the file after', async () => {
    const other = await ContentStore.open(join(base, 'cas-5'));
    for (const [index, piece] of pieces.entries()) await other.putChunk(pieceSha256[index]!, piece);
    const objects = createObjectBuilders(other);
    assert.equal(await objects.sha256s(pieceSha256), undefined, 'no files planned yet');
    await objects.plan(pieceLength, files);
    objects.pieceStored(4, pieceSha256[4]!);
    assert.deepEqual(await objects.sha256s(pieceSha256), files.map((file) => file.sha256));
    const result = await other.materialize({ files, pieceLength, pieceSha256, destination: join(base, 'out-5'), layout: 'directory', builders: objects.forFiles() });
    assert.deepEqual(result.map((file) => file.built), [true, true]);
    assert.ok((await readFile(join(base, 'out-5/model/b.bin'))).equals(b));
  });

  it('takes pieces it was never told of from the complete manifest, and leaves an object already there as it is', async () => {
    const objects = createObjectBuilders(store);
    await objects.plan(pieceLength, files);
    objects.pieceStored(0, pieceSha256[0]!);
    const result = await store.materialize({ files, pieceLength, pieceSha256, destination: join(base, 'out-2'), layout: 'directory', builders: objects.forFiles() });
    assert.deepEqual(result.map((file) => file.built), [false, false], 'the objects of the first test are reused');
    assert.deepEqual(await tmpFiles(), []);
  });

  it('refuses bytes that do not match the file\'s digest, and publishes nothing', async () => {
    const other = await ContentStore.open(join(base, 'cas-2'));
    for (const [index, piece] of pieces.entries()) await other.putChunk(pieceSha256[index]!, piece);
    const objects = createObjectBuilders(other);
    await objects.plan(pieceLength, files);
    pieces.forEach((_, index) => objects.pieceStored(index, pieceSha256[index]!));
    const wrong = [{ ...files[0]!, sha256: sha256(Buffer.from('another file')) }, files[1]!];
    await assert.rejects(other.materialize({ files: wrong, pieceLength, pieceSha256, destination: join(base, 'out-3'), layout: 'directory', builders: objects.forFiles() }), FileDigestMismatchError);
    await objects.discardAll();
    assert.deepEqual(await readdir(other.layout.tmp), []);
    const published = (await readdir(other.layout.objects, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
    assert.deepEqual(published, [], 'no object published');
  });

  it('leaves materialize to build the file when a piece could not be read, and a discarded builder leaves no temp file', async () => {
    const other = await ContentStore.open(join(base, 'cas-3'));
    const objects = createObjectBuilders(other);
    await objects.plan(pieceLength, files);
    objects.pieceStored(0, pieceSha256[0]!); // announced before it is in this CAS: the read fails
    for (const [index, piece] of pieces.entries()) await other.putChunk(pieceSha256[index]!, piece);
    const result = await other.materialize({ files, pieceLength, pieceSha256, destination: join(base, 'out-4'), layout: 'directory', builders: objects.forFiles() });
    assert.deepEqual(result.map((file) => file.built), [true, true]);
    assert.ok((await readFile(join(base, 'out-4/model/a.bin'))).equals(a));
    assert.deepEqual(await readdir(other.layout.tmp), []);

    const abandoned = createObjectBuilders(other);
    await abandoned.plan(pieceLength, [{ path: 'c.bin', length: stream.length }]);
    for (const [index] of pieces.entries()) abandoned.pieceStored(index, pieceSha256[index]!);
    await abandoned.discardAll();
    assert.deepEqual(await readdir(other.layout.tmp), [], 'a job that ends before materializing leaves nothing');
  });
});
