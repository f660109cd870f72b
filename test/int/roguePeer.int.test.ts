import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import MemoryChunkStore from 'memory-chunk-store';
import { pino } from 'pino';
import WebTorrent, { type Torrent } from 'webtorrent';
import { ChunkDigestMismatchError } from '../../src/cas/casErrors.ts';
import { ContentStore } from '../../src/cas/contentStore.ts';
import { buildSegmentTorrent } from '../../src/cas/segmentTorrent.ts';
import { createTorrentEngine, privateSwarmOptions, type AddSegmentOptions, type SegmentHandle, type TorrentEngine } from '../../src/engine/torrentEngine.ts';
import { startRoguePeer, type RoguePeer } from '../helpers/roguePeer.ts';
import { waitFor } from '../helpers/waitFor.ts';

const pieceLength = 16 * 1024;
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const sha1 = (bytes: Uint8Array): Buffer => createHash('sha1').update(bytes).digest();
const newPeerId = (): string => randomBytes(20).toString('hex');

/** Eight pieces, the last one short. */
const pieces = Array.from({ length: 8 }, (_, index) =>
  Buffer.from(Array.from({ length: index === 7 ? 10_000 : pieceLength }, (_, at) => (at * 193 + index * 29 + 7) & 0xff)),
);
const content = Buffer.concat(pieces);

/** A segment of `ofPieces` (their SHA-1 in the torrent) with `pieceSha256` as the manifest's digests. */
function segmentOf(name: string, ofPieces: readonly Buffer[], pieceSha256: readonly string[], length = pieceLength): AddSegmentOptions {
  const total = ofPieces.reduce((sum, piece) => sum + piece.length, 0);
  const { infoHash, torrentFile } = buildSegmentTorrent({ name, pieceLength: length, length: total, sha1: ofPieces.map(sha1) });
  return { infoHash, torrentFile, pieceSha256 };
}

describe('the engine against a peer that serves wrong bytes', () => {
  let base: string;
  const engines: TorrentEngine[] = [];
  const rogues: RoguePeer[] = [];
  const clients: WebTorrent[] = [];
  const logger = pino({ level: 'silent' });

  const newEngine = async (name: string): Promise<{ engine: TorrentEngine; cas: ContentStore }> => {
    const cas = await ContentStore.open(join(base, name));
    const engine = createTorrentEngine({ cas, logger: logger.child({ engine: name }) });
    engines.push(engine);
    await waitFor(`${name} to listen`, () => engine.port > 0);
    return { engine, cas };
  };

  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'rogue-peer-'));
  });
  after(async () => {
    for (const engine of engines) await engine.destroy();
    for (const client of clients) await new Promise<void>((resolve) => client.destroy(() => resolve()));
    for (const rogue of rogues) await rogue.close();
    await rm(base, { recursive: true, force: true });
  });

  describe('bit flips (every piece fails SHA-1)', () => {
    const segment = segmentOf('transfer-rogue.segment-0', pieces, pieces.map(sha256));
    let leecher: TorrentEngine;
    let leecherCas: ContentStore;
    let rogue: RoguePeer;
    let done: { outcome: PromiseSettledResult<void> | undefined };
    let handle: SegmentHandle;

    before(async () => {
      ({ engine: leecher, cas: leecherCas } = await newEngine('leecher'));
      rogue = await startRoguePeer({ infoHash: segment.infoHash, peerId: newPeerId(), pieceLength, content });
      rogues.push(rogue);
    });

    it('bans the rogue after three failed pieces, closes its connection and stores nothing', async () => {
      handle = await leecher.addSegment(segment);
      done = watch(handle.done);
      handle.addPeer(`127.0.0.1:${rogue.port}`);
      await waitFor('the rogue to be banned', () => leecher.isBanned(rogue.peerId));
      assert.ok(leecher.failedPieces() >= 3, `failed pieces: ${leecher.failedPieces()}`);
      assert.ok(rogue.connections[0]!.requests > 0, 'the leecher asked the rogue for blocks');
      await waitFor('the leecher to hang up on the rogue', () => rogue.connections.every((connection) => connection.closed));
      assert.equal(handle.peers(), 0);
      assert.deepEqual(await casFiles(leecherCas), { chunks: [], tmp: [] }, 'no byte from the rogue reached the CAS');
    });

    it('refuses the banned peer id when it comes back, either way round, but not a fresh one', async () => {
      // webtorrent redials a closed outgoing peer after a second; the engine must hang up again.
      const accepted = () => rogue.connections.filter((connection) => connection.direction === 'accepted');
      await waitFor('webtorrent to redial the rogue', () => accepted().length >= 2 && accepted()[1]!.handshaken, 5_000);
      await waitFor('the leecher to hang up on the redialled rogue', () => accepted()[1]!.closed);
      assert.equal(accepted()[1]!.requests, 0, 'nothing was requested from the banned peer again');

      const redial = rogue.dial(leecher.port);
      await waitFor('the leecher to hang up on the banned peer id dialling in', () => redial.closed);
      assert.equal(redial.requests, 0);

      // The same liar under a new peer id is admitted (so the refusal above was the ban), and banned in turn.
      const stranger = rogue.dial(leecher.port, newPeerId());
      await waitFor('the leecher to request blocks from a fresh peer id', () => stranger.requests > 0);
      await waitFor('the fresh peer id to be banned too', () => leecher.isBanned(stranger.peerId));
      await waitFor('the leecher to hang up on it', () => stranger.closed);
      assert.deepEqual(await casFiles(leecherCas), { chunks: [], tmp: [] });
    });

    it('completes from an honest seeder afterwards, every chunk under its SHA-256', async () => {
      const { engine: seeder, cas: seederCas } = await newEngine('seeder');
      for (const piece of pieces) await seederCas.putChunk(sha256(piece), piece);
      const seeding = await seeder.addSegment(segment);
      await seeding.done;
      handle.addPeer(`127.0.0.1:${seeder.port}`);
      const outcome = await waitFor('the leecher to finish from the seeder', () => done.outcome, 20_000);
      assert.deepEqual(outcome, { status: 'fulfilled', value: undefined });

      const { chunks, tmp } = await casFiles(leecherCas);
      assert.deepEqual(tmp, []);
      assert.deepEqual(chunks.map((path) => path.split('/')[1]).toSorted(), pieces.map(sha256).toSorted());
      for (const path of chunks) assert.equal(sha256(await readFile(join(leecherCas.root, 'chunks', path))), path.split('/')[1], path);
    });
  });

  // A peer cannot make bytes that pass SHA-1 but not SHA-256 (a SHA-1 second preimage), but a torrent
  // whose SHA-1 pieces disagree with the manifest's SHA-256 gets there: CasChunkStore's gate is the last word.
  describe('pieces that pass SHA-1 but not the manifest SHA-256', () => {
    const wrong = 2;
    const manifest = pieces.map(sha256).with(wrong, sha256(Buffer.from('the bytes the manifest promised')));
    const segment = segmentOf('transfer-gate.segment-0', pieces, manifest);

    it('stores none of them, and the segment fails instead of waiting for ever', async () => {
      const { engine: seeder, cas: seederCas } = await newEngine('gate-seeder');
      for (const piece of pieces) await seederCas.putChunk(sha256(piece), piece);
      await (await seeder.addSegment({ ...segment, pieceSha256: pieces.map(sha256) })).done;

      const { engine: leecher, cas: leecherCas } = await newEngine('gate-leecher');
      const handle = await leecher.addSegment(segment);
      handle.addPeer(`127.0.0.1:${seeder.port}`);
      await waitFor('the seeder to serve the leecher', () => seeder.totals().uploaded > 0);
      // webtorrent destroys a torrent whose store refuses a put; the engine must say so, not hang.
      const done = watch(handle.done);
      const outcome = await waitFor('the segment to fail', () => done.outcome, 10_000);
      assert.ok(outcome.status === 'rejected', 'the segment cannot be done: one piece never verified');
      assert.ok(outcome.reason instanceof ChunkDigestMismatchError, String(outcome.reason));
      assert.equal(outcome.reason.expected, manifest[wrong]);
      assert.equal(outcome.reason.actual, sha256(pieces[wrong]!));

      assert.equal(await leecherCas.hasChunk(sha256(pieces[wrong]!)), false, 'the bytes the torrent vouched for were not stored');
      assert.equal(await leecherCas.hasChunk(manifest[wrong]!), false);
      const { chunks, tmp } = await casFiles(leecherCas);
      assert.deepEqual(tmp, []);
      for (const path of chunks) assert.equal(sha256(await readFile(join(leecherCas.root, 'chunks', path))), path.split('/')[1], path);

      // A failed segment can be added again (e.g. with a corrected manifest): it is not stuck in the engine.
      const again = await leecher.addSegment(segment);
      again.done.catch(() => {});
      assert.notEqual(again, handle, 'adding the failed segment again starts it anew');
    });
  });

  // Big pieces have many blocks, and webtorrent fetches the blocks of one piece from several peers at
  // once: a piece the rogue spoiled was partly sent by the honest seeder too.
  describe('the rogue and an honest seeder in the swarm at once', () => {
    const bigPieceLength = 256 * 1024;
    const bigPieces = Array.from({ length: 16 }, (_, index) => Buffer.from(Array.from({ length: bigPieceLength }, (_, at) => (at * 193 + index * 29 + (at >>> 10)) & 0xff)));
    const segment = segmentOf('transfer-mixed.segment-0', bigPieces, bigPieces.map(sha256), bigPieceLength);

    it('bans the rogue, not the honest seeder, and completes', async () => {
      // The honest seeder is a stock client (its peer id is known) seeding from memory.
      const store = new MemoryChunkStore(bigPieceLength, { length: bigPieces.length * bigPieceLength });
      for (const [index, piece] of bigPieces.entries()) store.put(index, piece);
      const honest = new WebTorrent({ ...privateSwarmOptions, tracker: false }) as WebTorrent & { peerId: string };
      clients.push(honest);
      const seedOptions = { preloadedStore: store, private: true };
      const seeding = honest.add(segment.torrentFile, seedOptions) as Torrent & { done: boolean };
      await waitFor('the honest seeder to verify its pieces and listen', () => seeding.done && honest.torrentPort > 0);
      const rogue = await startRoguePeer({ infoHash: segment.infoHash, peerId: newPeerId(), pieceLength: bigPieceLength, content: Buffer.concat(bigPieces) });
      rogues.push(rogue);

      const { engine: leecher, cas: leecherCas } = await newEngine('mixed-leecher');
      const handle = await leecher.addSegment(segment);
      const done = watch(handle.done);
      handle.addPeer(`127.0.0.1:${rogue.port}`);
      handle.addPeer(`127.0.0.1:${honest.torrentPort}`);
      const outcome = await waitFor('the leecher to finish, or to ban the honest seeder', () => (leecher.isBanned(honest.peerId) ? 'honest seeder banned' : done.outcome), 20_000);
      assert.equal(leecher.isBanned(honest.peerId), false, `the honest seeder was banned for blocks the rogue spoiled (failed pieces: ${leecher.failedPieces()})`);
      assert.deepEqual(outcome, { status: 'fulfilled', value: undefined });
      assert.equal(leecher.isBanned(rogue.peerId), true);
      for (const digest of segment.pieceSha256) assert.equal(await leecherCas.hasChunk(digest), true);
    });
  });

  describe('a peer that takes requests and never answers', () => {
    it('is hung up on after 8 s without an answer (webtorrent waited 30 s), and the segment completes from an honest seeder', async () => {
      const segment = segmentOf('transfer-silent.segment-0', pieces, pieces.map(sha256));
      const { engine: leecher, cas: leecherCas } = await newEngine('silent-leecher');
      const silent = await startRoguePeer({ infoHash: segment.infoHash, peerId: newPeerId(), pieceLength, content, behaviour: 'silent' });
      rogues.push(silent);
      const handle = await leecher.addSegment(segment);
      const done = watch(handle.done);
      handle.addPeer(`127.0.0.1:${silent.port}`);
      await waitFor('the leecher to ask the silent peer for blocks', () => silent.connections.some((connection) => connection.requests > 0));
      const asked = performance.now();
      await waitFor('the leecher to hang up on the silent peer', () => silent.connections.every((connection) => connection.closed), 12_000);
      const seconds = (performance.now() - asked) / 1000;
      assert.ok(seconds >= 7, `hung up after ${seconds.toFixed(1)} s: too soon for a timeout of 8 s`);
      assert.equal(leecher.isBanned(silent.peerId), false, 'silence is not lying: no ban');

      const { engine: seeder, cas: seederCas } = await newEngine('silent-seeder');
      for (const piece of pieces) await seederCas.putChunk(sha256(piece), piece);
      await (await seeder.addSegment(segment)).done;
      handle.addPeer(`127.0.0.1:${seeder.port}`);
      assert.deepEqual(await waitFor('the leecher to finish from the seeder', () => done.outcome, 20_000), { status: 'fulfilled', value: undefined });
      for (const digest of segment.pieceSha256) assert.equal(await leecherCas.hasChunk(digest), true);
    });
  });
});

/** Records how the promise settles, for waitFor to poll. */
function watch<T>(promise: Promise<T>): { outcome: PromiseSettledResult<T> | undefined } {
  const watched: { outcome: PromiseSettledResult<T> | undefined } = { outcome: undefined };
  promise.then(
    (value) => void (watched.outcome = { status: 'fulfilled', value }),
    (reason: unknown) => void (watched.outcome = { status: 'rejected', reason }),
  );
  return watched;
}

/** Files under chunks/ (as '<aa>/<sha256>') and tmp/. */
async function casFiles(cas: ContentStore): Promise<{ chunks: string[]; tmp: string[] }> {
  const list = async (directory: string) =>
    (await readdir(join(cas.root, directory), { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name).slice(join(cas.root, directory).length + 1))
      .sort();
  return { chunks: await list('chunks'), tmp: await list('tmp') };
}
