import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ChunkDigestMismatchError, ChunkNotFoundError } from '../../src/cas/casErrors.ts';
import { CasChunkStore, PieceVerifier, type ChunkGetOptions } from '../../src/cas/casChunkStore.ts';
import { ContentStore, type PutChunkOutcome } from '../../src/cas/contentStore.ts';
import { verifiedBitfield } from '../../src/cas/verifiedBitfield.ts';
import { VerifiedChunk } from '../../src/cas/verifiedChunk.ts';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Three pieces of 16 bytes and a short last one of 5. */
const pieces = [Buffer.alloc(16, 1), Buffer.alloc(16, 2), Buffer.alloc(16, 3), Buffer.alloc(5, 4)];
const pieceSha256 = pieces.map(sha256);

function promised(store: CasChunkStore) {
  return {
    put: promisify((index: number, buf: Buffer, cb: (error: Error | null) => void) => store.put(index, buf, cb)),
    get: promisify((index: number, opts: ChunkGetOptions | null, cb: (error: Error | null, value?: Buffer) => void) => store.get(index, opts, cb)),
    destroy: promisify((cb: (error: Error | null) => void) => store.destroy(cb)),
  };
}

describe('CasChunkStore', () => {
  let base: string;
  let cas: ContentStore;
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'cas-chunkstore-'));
    cas = await ContentStore.open(join(base, 'cas'));
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('puts verified pieces into the CAS by digest and reads them back, whole or a block of them', async () => {
    const stored: Array<[number, PutChunkOutcome]> = [];
    // webtorrent's own keys ride along in opts; a file name there must not matter.
    const store = new CasChunkStore(16, { cas, pieceSha256, onStored: (index, outcome) => stored.push([index, outcome]), name: '../../evil', files: [], length: 53 });
    const { put, get } = promised(store);
    for (const [index, piece] of pieces.entries()) await put(index, piece);
    assert.deepEqual(stored, [[0, 'stored'], [1, 'stored'], [2, 'stored'], [3, 'stored']]);
    for (const digest of pieceSha256) assert.equal(await cas.hasChunk(digest), true);
    assert.deepEqual(await get(3, null), pieces[3]);
    assert.deepEqual(await get(1, { offset: 4, length: 8 }), pieces[1]!.subarray(4, 12));
    assert.deepEqual(await get(0, { offset: 10 }), pieces[0]!.subarray(10));
    await put(0, pieces[0]!);
    assert.deepEqual(stored.at(-1), [0, 'present']);
  });

  it("a PieceVerifier checks assembled pieces against the manifest's SHA-256 and hands the good ones to put", async () => {
    const fresh = await ContentStore.open(join(base, 'verifier'));
    const verifier = new PieceVerifier(fresh, pieceSha256);
    const stored: number[] = [];
    const { put } = promised(new CasChunkStore(16, { cas: fresh, pieceSha256, verifier, onStored: (index) => stored.push(index) }));
    const wrong = verifier.verify(1, Buffer.alloc(16, 7));
    assert.equal(wrong.ok, false, 'bytes of another piece');
    assert.ok(!wrong.ok && wrong.mismatch instanceof ChunkDigestMismatchError && wrong.mismatch.expected === pieceSha256[1]);
    assert.deepEqual(verifier.verify(9, pieces[0]!), { ok: false }, 'a piece the segment does not have');
    assert.equal(fresh.stats().verifyFailures, 1, 'the mismatch is counted; an unknown index names no digest to compare');
    const piece = Buffer.from(pieces[1]!);
    assert.equal(verifier.verify(1, piece).ok, true);
    assert.ok(verifier.take(piece) instanceof VerifiedChunk);
    assert.equal(verifier.take(piece), undefined, 'a checked chunk is handed out once');
    assert.equal(verifier.verify(1, piece).ok, true);
    await put(1, piece);
    assert.deepEqual(stored, [1]);
    assert.equal(await fresh.hasChunk(pieceSha256[1]), true);
    // A buffer checked for piece 1 and put as piece 2 is hashed by put, and refused.
    assert.equal(verifier.verify(1, piece).ok, true);
    await assert.rejects(put(2, piece), ChunkDigestMismatchError);
    assert.equal(await fresh.hasChunk(pieceSha256[2]!), false);
  });

  it('a VerifiedChunk cannot be made or faked without the hash', async () => {
    const Forged = VerifiedChunk as unknown as new (token: symbol, sha256: string, bytes: Uint8Array) => VerifiedChunk;
    assert.throws(() => new Forged(Symbol('checked'), pieceSha256[0]!, Buffer.alloc(16, 9)), TypeError);
    const lookalike = { sha256: pieceSha256[0]!, bytes: Buffer.alloc(16, 9) } as unknown as VerifiedChunk;
    await assert.rejects(cas.putVerifiedChunk(lookalike), TypeError);
    assert.deepEqual(VerifiedChunk.check(pieceSha256[0]!, Buffer.alloc(16, 9)), { actual: sha256(Buffer.alloc(16, 9)) });
  });

  it('get with a callback in place of opts', async () => {
    const store = new CasChunkStore(16, { cas, pieceSha256 });
    const bytes = await new Promise<Buffer | undefined>((resolve, reject) => store.get(2, (error, value) => (error ? reject(error) : resolve(value))));
    assert.deepEqual(bytes, pieces[2]);
  });

  it('a piece that fails SHA-256 is a callback error, and nothing is stored', async () => {
    const other = Buffer.alloc(16, 9);
    const claimed = [sha256(Buffer.alloc(16, 8))];
    const { put } = promised(new CasChunkStore(16, { cas, pieceSha256: claimed }));
    await assert.rejects(put(0, other), ChunkDigestMismatchError);
    assert.equal(await cas.hasChunk(claimed[0]!), false);
    assert.equal(await cas.hasChunk(sha256(other)), false);
  });

  it('a missing piece, an index outside the segment or a wrong length is a callback error', async () => {
    const missing = [sha256(Buffer.from('never stored'))];
    const { get } = promised(new CasChunkStore(16, { cas, pieceSha256: missing }));
    await assert.rejects(get(0, null), ChunkNotFoundError);
    await assert.rejects(get(1, null), /not in this segment/);
    await assert.rejects(get(-1, null), /not in this segment/);
    const four = promised(new CasChunkStore(16, { cas, pieceSha256 }));
    await assert.rejects(four.put(0, Buffer.alloc(15)), /pieces are 16 bytes/);
    await assert.rejects(four.put(3, Buffer.alloc(17)), /at most/);
  });

  it('destroy keeps the CAS content, which other transfers share', async () => {
    const store = new CasChunkStore(16, { cas, pieceSha256 });
    const { destroy, get } = promised(store);
    await destroy();
    for (const digest of pieceSha256) assert.equal(await cas.hasChunk(digest), true);
    await assert.rejects(get(0, null), /closed/);
    assert.ok((await readdir(join(cas.root, 'chunks', pieceSha256[0]!.slice(0, 2)))).includes(pieceSha256[0]!));
  });

  it('refuses a bad digest list up front', () => {
    assert.throws(() => new CasChunkStore(16, { cas, pieceSha256: ['../../etc/passwd'] }), TypeError);
    assert.throws(() => new CasChunkStore(0, { cas, pieceSha256 }), RangeError);
  });
});

describe('verifiedBitfield', () => {
  let base: string;
  let cas: ContentStore;
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'cas-bitfield-'));
    cas = await ContentStore.open(join(base, 'cas'));
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('sets the bits of present pieces, most significant bit first', async () => {
    const many = Array.from({ length: 11 }, (_, index) => Buffer.from(`piece ${index}`));
    for (const index of [0, 2, 7, 8, 10]) await cas.putChunk(sha256(many[index]!), many[index]!);
    const bits = await verifiedBitfield(cas, many.map(sha256));
    assert.deepEqual([...bits], [0b1010_0001, 0b1010_0000]);
  });

  it('is empty for an empty segment', async () => {
    assert.deepEqual([...(await verifiedBitfield(cas, []))], []);
  });
});
