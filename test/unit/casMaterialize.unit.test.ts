import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArtifactFile } from '../../src/cas/artifactPlan.ts';
import { ChunkNotFoundError, FileDigestMismatchError, MaterializeConflictError, UnsafePathError } from '../../src/cas/casErrors.ts';
import { ContentStore } from '../../src/cas/contentStore.ts';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

interface Artifact {
  files: ArtifactFile[];
  pieceLength: number;
  pieceSha256: string[];
  pieces: Buffer[];
  contents: Map<string, Buffer>;
}

/** Files of the given lengths with deterministic, distinct bytes, cut into pieces like the origin does. */
function makeArtifact(spec: Array<[string, number]>, pieceLength: number, seed = 1): Artifact {
  const contents = new Map<string, Buffer>();
  const files = spec.map(([path, length], fileIndex) => {
    const bytes = Buffer.from(Array.from({ length }, (_, at) => (at * 31 + fileIndex * 7 + seed) & 0xff));
    contents.set(path, bytes);
    return { path, length, sha256: sha256(bytes) };
  });
  const stream = Buffer.concat([...contents.values()]);
  const pieces: Buffer[] = [];
  for (let at = 0; at < stream.length; at += pieceLength) pieces.push(stream.subarray(at, at + pieceLength));
  return { files, pieceLength, pieces, pieceSha256: pieces.map(sha256), contents };
}

async function putPieces(store: ContentStore, artifact: Artifact): Promise<void> {
  for (const piece of artifact.pieces) await store.putChunk(sha256(piece), piece);
}

async function listTree(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries.map((entry) => join(entry.parentPath, entry.name).slice(directory.length + 1)).sort();
}

describe('materialize', () => {
  let base: string;
  let store: ContentStore;
  let outside: string;
  let counter = 0;
  const freshDestination = (): string => join(base, 'dest', `d${counter++}`);
  before(async () => {
    base = await realpath(await mkdtemp(join(tmpdir(), 'cas-materialize-')));
    store = await ContentStore.open(join(base, 'cas'));
    outside = join(base, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'victim'), 'precious');
  });
  after(async () => {
    assert.deepEqual(await listTree(outside), ['victim'], 'nothing was written outside the store and the destinations');
    assert.equal(await readFile(join(outside, 'victim'), 'utf8'), 'precious');
    await rm(base, { recursive: true, force: true });
  });

  it('a one-file artifact: destination is a symlink to objects/<sha256>, read-only', async () => {
    const artifact = makeArtifact([['model.safetensors', 100]], 16);
    await putPieces(store, artifact);
    const destination = join(freshDestination(), 'model.safetensors');
    const [file] = await store.materialize({ ...artifact, destination });
    assert.equal(await readlink(destination), store.objectPath(artifact.files[0]!.sha256));
    assert.deepEqual(await readFile(destination), artifact.contents.get('model.safetensors'));
    assert.equal((await stat(destination)).mode & 0o777, 0o444);
    assert.equal(file!.built, true);
    assert.equal(file!.linkOutcome, 'created');
    assert.deepEqual(await readdir(join(store.root, 'tmp')), []);
  });

  it('many files: pieces span files, files start and end inside pieces, the last piece is short', async () => {
    // 8-byte pieces over 10 + 3 + 25 + 0 + 7 = 45 bytes: 6 pieces, the last of 5 bytes.
    const artifact = makeArtifact([['config.json', 10], ['tokenizer/vocab.txt', 3], ['model/shard-00001.safetensors', 25], ['model/empty', 0], ['model/shard-00002.safetensors', 7]], 8);
    assert.equal(artifact.pieces.length, 6);
    assert.equal(artifact.pieces.at(-1)!.length, 5);
    await putPieces(store, artifact);
    const destination = freshDestination();
    const files = await store.materialize({ ...artifact, destination });
    assert.deepEqual(files.map((file) => file.path), artifact.files.map((file) => file.path));
    for (const [path, bytes] of artifact.contents) {
      assert.ok((await lstat(join(destination, path))).isSymbolicLink(), path);
      assert.deepEqual(await readFile(join(destination, path)), bytes, path);
    }
    assert.deepEqual(await listTree(destination), ['config.json', 'model', 'model/empty', 'model/shard-00001.safetensors', 'model/shard-00002.safetensors', 'tokenizer', 'tokenizer/vocab.txt']);
  });

  it('is idempotent, and reuses an object another artifact already built', async () => {
    const artifact = makeArtifact([['a.bin', 40], ['b/c.bin', 20]], 16, 3);
    await putPieces(store, artifact);
    const destination = freshDestination();
    await store.materialize({ ...artifact, destination });
    const again = await store.materialize({ ...artifact, destination });
    assert.deepEqual(again.map((file) => [file.built, file.linkOutcome]), [[false, 'unchanged'], [false, 'unchanged']]);

    // The same first file, alone, in another transfer: no chunks needed, the object is reused.
    const single = { files: [artifact.files[0]!], pieceLength: 64, pieceSha256: ['0'.repeat(64)] };
    const [reused] = await store.materialize({ ...single, destination: join(freshDestination(), 'a.bin') });
    assert.equal(reused!.built, false);
  });

  it('a new version replaces the links of the old one, atomically', async () => {
    const destination = freshDestination();
    const v1 = makeArtifact([['w.bin', 30], ['x.bin', 5]], 16, 10);
    const v2 = makeArtifact([['w.bin', 33], ['x.bin', 5]], 16, 11);
    await putPieces(store, v1);
    await putPieces(store, v2);
    await store.materialize({ ...v1, destination });
    const files = await store.materialize({ ...v2, destination });
    assert.deepEqual(files.map((file) => file.linkOutcome), ['replaced', 'replaced']);
    assert.deepEqual(await readFile(join(destination, 'w.bin')), v2.contents.get('w.bin'));
    assert.deepEqual(await listTree(destination), ['w.bin', 'x.bin'], 'no temporary link left behind');
  });

  it('a file that does not match its whole-file digest throws, and nothing is materialized', async () => {
    const artifact = makeArtifact([['good.bin', 20], ['bad.bin', 20]], 16, 20);
    await putPieces(store, artifact);
    const wrong = sha256(Buffer.from('not the file'));
    const destination = freshDestination();
    const files = [artifact.files[0]!, { ...artifact.files[1]!, sha256: wrong }];
    await assert.rejects(store.materialize({ ...artifact, files, destination }), (error: unknown) => {
      assert.ok(error instanceof FileDigestMismatchError);
      assert.equal(error.path, 'bad.bin');
      assert.equal(error.actual, artifact.files[1]!.sha256);
      return true;
    });
    assert.deepEqual(await listTree(destination), []);
    assert.equal(await store.hasObject(wrong), false);
    assert.deepEqual(await readdir(join(store.root, 'tmp')), []);
  });

  it('a missing chunk throws ChunkNotFoundError, and nothing is linked', async () => {
    const artifact = makeArtifact([['m.bin', 40]], 16, 30);
    await store.putChunk(artifact.pieceSha256[0]!, artifact.pieces[0]!);
    const destination = join(freshDestination(), 'm.bin');
    await assert.rejects(store.materialize({ ...artifact, destination }), ChunkNotFoundError);
    await assert.rejects(lstat(destination), { code: 'ENOENT' });
  });

  it('an existing regular file at a target is not overwritten', async () => {
    const artifact = makeArtifact([['keep.bin', 10], ['other.bin', 10]], 16, 40);
    await putPieces(store, artifact);
    const destination = freshDestination();
    await mkdir(destination, { recursive: true });
    await writeFile(join(destination, 'other.bin'), 'mine');
    await assert.rejects(store.materialize({ ...artifact, destination }), MaterializeConflictError);
    assert.equal(await readFile(join(destination, 'other.bin'), 'utf8'), 'mine');
    assert.deepEqual(await listTree(destination), ['other.bin'], 'checked before any link was placed');
    assert.equal(await store.hasObject(artifact.files[0]!.sha256), false, 'checked before any object was built');
  });

  it('traversal in manifest paths is refused before anything is written', async () => {
    for (const path of ['../outside/victim', '/etc/passwd', 'a/../../x', 'a\\..\\x', 'C:/x']) {
      const artifact = makeArtifact([['ok.bin', 4], [path, 4]], 16, 50);
      const destination = freshDestination();
      await assert.rejects(store.materialize({ ...artifact, destination }), UnsafePathError, path);
      await assert.rejects(lstat(destination), { code: 'ENOENT' }, path);
    }
  });

  it('a symlink planted in the destination cannot redirect a write outside', async () => {
    const artifact = makeArtifact([['model/a.bin', 10], ['victim', 10]], 16, 60);
    await putPieces(store, artifact);
    const viaDirectory = freshDestination();
    await mkdir(viaDirectory, { recursive: true });
    await symlink(outside, join(viaDirectory, 'model'));
    await assert.rejects(store.materialize({ ...artifact, destination: viaDirectory }), /is a symlink/);

    const viaFile = freshDestination();
    await mkdir(viaFile, { recursive: true });
    await symlink(join(outside, 'victim'), join(viaFile, 'victim'));
    await assert.rejects(store.materialize({ ...artifact, destination: viaFile }), MaterializeConflictError);
    assert.equal(await readlink(join(viaFile, 'victim')), join(outside, 'victim'));
  });

  it('refuses inconsistent manifests', async () => {
    const artifact = makeArtifact([['a', 10], ['b', 10]], 8, 70);
    const destination = freshDestination();
    await assert.rejects(store.materialize({ ...artifact, pieceSha256: artifact.pieceSha256.slice(1), destination }), /make 3 pieces/);
    await assert.rejects(store.materialize({ ...artifact, pieceLength: 12, destination }), /power of two/);
    await assert.rejects(store.materialize({ ...artifact, files: [artifact.files[0]!, { ...artifact.files[1]!, path: 'a' }], destination }), /same place/);
    await assert.rejects(store.materialize({ ...artifact, files: [artifact.files[0]!, { ...artifact.files[1]!, path: 'a/b' }], destination }), /below "a"/);
    await assert.rejects(store.materialize({ ...artifact, layout: 'file', destination }), /one-file artifact/);
  });
});
