import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { chunkPath } from '../../src/cas/casLayout.ts';
import { ContentStore } from '../../src/cas/contentStore.ts';
import type { Origin } from '../../src/origin/origin.ts';
import { readGroups, runSeedJob, type SeedJobDeps } from '../../src/workers/seedJob.ts';
import type { ManifestView } from '../../src/workers/workerApi.ts';
import { waitFor } from '../helpers/waitFor.ts';

const mib = 2 ** 20;
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** 12 MiB: 1 MiB pieces (pinned), three segments of four (planPieceLayout), read two pieces to a range. */
const artifact = randomBytes(12 * mib);

/** An origin over `artifact` that records each range asked for and can hold the reads of offsets [from, to). */
function memoryOrigin() {
  const offsets: number[] = [];
  let gate: { from: number; to: number; open: Promise<void>; release: () => void } | undefined;
  const origin: Origin = {
    describe: async () => ({ files: [{ path: 'model.bin', length: artifact.length }] }),
    read: async (_file, offset, length) => {
      offsets.push(offset);
      if (gate !== undefined && offset >= gate.from && offset < gate.to) await gate.open;
      return Buffer.from(artifact.subarray(offset, offset + length));
    },
    close: async () => undefined,
  };
  return {
    origin,
    offsets,
    holdFrom(from: number, to = Infinity) {
      const { promise, resolve } = Promise.withResolvers<void>();
      gate = { from, to, open: promise, release: resolve };
    },
    release: () => gate?.release(),
  };
}

/** A publishSegment for memoryApi that holds the first publication, whichever segment it is, until `release` settles. */
const heldOnce = (release: Promise<void>) => {
  let first = true;
  return async (): Promise<void> => {
    if (!first) return;
    first = false;
    await release;
  };
};

/** The worker api's manifest calls, kept in memory; `publishSegment` can be replaced per test. */
function memoryApi(publishSegment: (index: number) => Promise<void> = async () => undefined) {
  let manifest: ManifestView['manifest'] = null;
  const published: number[] = [];
  const completed: Array<{ path: string; sha256: string }> = [];
  const api: SeedJobDeps['api'] = {
    manifest: async (transferId) => ({ transferId, status: 'running', name: null, destination: null, source: { kind: 'http' }, manifest }),
    publishManifest: async (_id, layout) => {
      manifest = { ...layout, files: layout.files.map((file) => ({ ...file, sha256: null })), segments: [], complete: false };
    },
    publishSegment: async (_id, index) => {
      await publishSegment(index);
      published.push(index);
    },
    segmentTorrent: async () => Buffer.alloc(0),
    completeManifest: async (_id, files) => void completed.push(...files),
  };
  return { api, published, completed };
}

describe('the seed job', () => {
  let base: string;
  let cas: ContentStore;
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'seed-job-'));
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  let joined: number;
  let reported: number;
  /** Per segment joined, in order: whether the engine was told it is the transfer's last. */
  let lastOfTransfer: boolean[];
  const depsFor = async (api: SeedJobDeps['api'], origin: Origin, store?: ContentStore): Promise<SeedJobDeps> => {
    cas = store ?? (await ContentStore.open(join(base, `cas-${Math.random().toString(36).slice(2)}`)));
    joined = 0;
    reported = 0;
    lastOfTransfer = [];
    return {
      api,
      cas,
      engine: {
        addSegment: async (segment) => {
          joined++;
          lastOfTransfer.push(segment.lastOfTransfer === true);
          return {} as never;
        },
      },
      origin,
      reporter: { add: () => void reported++ },
      logger: pino({ level: 'silent' }),
      isHeld: () => true,
      signal: new AbortController().signal,
      onSegmentJoined: () => undefined,
      pieceLayout: { minPieceLength: mib, maxPieceLength: mib },
    };
  };

  it('reads on from the origin while a segment is being published, and publishes each once its pieces are stored', async () => {
    const origin = memoryOrigin();
    const publication = Promise.withResolvers<void>();
    const { api, published, completed } = memoryApi(heldOnce(publication.promise));
    const job = runSeedJob('t1', await depsFor(api, origin.origin));

    // The first publication is held: the reads go on into the next segments.
    await waitFor('reads past the first segment', () => origin.offsets.filter((offset) => offset >= 4 * mib).length >= 2);
    assert.deepEqual(published, []);
    publication.resolve();
    await job;

    assert.deepEqual(published.toSorted(), [0, 1, 2]);
    assert.deepEqual(lastOfTransfer, [false, false, true]);
    assert.deepEqual(origin.offsets.toSorted((a, b) => a - b), [0, 2, 4, 6, 8, 10].map((at) => at * mib), 'each range of two pieces is read once');
    assert.deepEqual(completed, [{ path: 'model.bin', length: artifact.length, sha256: sha256(artifact) }]);
    for (let piece = 0; piece < 12; piece++) assert.equal(await cas.hasChunk(sha256(artifact.subarray(piece * mib, (piece + 1) * mib))), true);
  });

  it('reads pieces smaller than 2 MiB from the origin several to a range, and stores each piece', async () => {
    const origin = memoryOrigin();
    const { api, published, completed } = memoryApi();
    await runSeedJob('t9', { ...(await depsFor(api, origin.origin)), pieceLayout: { minPieceLength: mib / 2, maxPieceLength: mib / 2 } });

    assert.deepEqual(origin.offsets.toSorted((a, b) => a - b), [0, 2, 4, 6, 8, 10].map((at) => at * mib), 'ranges of 2 MiB, four pieces (half a segment), each read once');
    assert.equal(reported, 24);
    for (let piece = 0; piece < 24; piece++) assert.equal(await cas.hasChunk(sha256(artifact.subarray((piece * mib) / 2, ((piece + 1) * mib) / 2))), true, `piece ${piece}`);
    assert.deepEqual(published.toSorted((a, b) => a - b), [0, 1, 2]);
    assert.deepEqual(completed, [{ path: 'model.bin', length: artifact.length, sha256: sha256(artifact) }]);
  });

  it("publishes the segments after a slow range while it is still being read, and the slow one's last", async () => {
    const origin = memoryOrigin();
    origin.holdFrom(2 * mib, 3 * mib);
    const { api, published, completed } = memoryApi();
    const job = runSeedJob('t7', await depsFor(api, origin.origin));

    // Pieces 2 and 3 (segment 0) are held: segments 1 and 2 are whole and go out meanwhile.
    await waitFor('the segments after the slow piece published', () => published.length === 2);
    assert.deepEqual(published.toSorted(), [1, 2]);
    assert.deepEqual(lastOfTransfer, [false, false], 'the origin is not read to its end yet');
    origin.release();
    await job;

    assert.equal(published[2], 0);
    assert.deepEqual(lastOfTransfer, [false, false, true]);
    assert.deepEqual(completed, [{ path: 'model.bin', length: artifact.length, sha256: sha256(artifact) }]);
  });

  it('stopped while reads are in flight, fails with the reason it was stopped for, not with what the closed origin threw', async () => {
    const origin = memoryOrigin();
    const closing = Promise.withResolvers<never>();
    // As the HTTP and S3 origins do: close() fails the reads in flight.
    const closable: Origin = {
      ...origin.origin,
      read: async (file, offset, length) => {
        if (offset < 4 * mib) return origin.origin.read(file, offset, length);
        origin.offsets.push(offset);
        return closing.promise;
      },
      close: async () => closing.reject(new Error('the origin is closed')),
    };
    void closing.promise.catch(() => undefined);
    const { api } = memoryApi();
    const stop = new AbortController();
    const job = runSeedJob('t8', { ...(await depsFor(api, closable)), signal: stop.signal });
    await waitFor('reads held past the first segment', () => origin.offsets.some((offset) => offset >= 4 * mib));
    const lost = new Error('the lease was lost');
    stop.abort(lost);
    await closable.close();
    await assert.rejects(job, (error: unknown) => error === lost);
  });

  it('after a failed read, returns only once the publication under way has ended, and joins no swarm after that', async () => {
    const origin = memoryOrigin();
    const failure = new Error('the origin refused the range');
    const failing: Origin = { ...origin.origin, read: async (file, offset, length) => (offset >= 8 * mib ? Promise.reject(failure) : origin.origin.read(file, offset, length)) };
    const publication = Promise.withResolvers<void>();
    const { api, published } = memoryApi(heldOnce(publication.promise));
    let settled = false;
    const job = runSeedJob('t3', await depsFor(api, failing)).finally(() => (settled = true));
    void job.catch(() => undefined);
    // The memory origin answers at once: pieces 0-7 are read, and stored, before piece 8 fails.
    await waitFor('the pieces before the failed read stored', () => reported === 8);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false, 'the job waits for the segment being published');
    publication.resolve();
    await assert.rejects(job, failure);
    assert.equal(published.length, 1, 'the other segment, stored too, is not published after the failure');
    assert.equal(joined, 1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(joined, 1, 'no swarm joined once the job has failed');
  });

  it('a restarted seed keeps the layout published before, though it would cut the artifact otherwise now', async () => {
    const origin = memoryOrigin();
    const { api, published } = memoryApi();
    // As an older version published it: six pieces to a segment, not four.
    await api.publishManifest('t6', { totalBytes: artifact.length, pieceLength: mib, pieceCount: 12, segmentPieces: 6, files: [{ path: 'model.bin', length: artifact.length }] });
    const layouts: number[] = [];
    const publishManifest = api.publishManifest;
    api.publishManifest = async (id, layout) => {
      layouts.push(layout.segmentPieces);
      return publishManifest(id, layout);
    };
    await runSeedJob('t6', await depsFor(api, origin.origin));
    assert.deepEqual(layouts, [6]);
    assert.deepEqual(published.toSorted(), [0, 1]);
  });

  it('a restarted seed reads again only what is missing or damaged in its CAS', async () => {
    const first = memoryOrigin();
    const { api } = memoryApi();
    await runSeedJob('t4', await depsFor(api, first.origin));
    const store = cas;
    // The manifest as the first run left it, but not completed: the seed stopped before that.
    const view = await api.manifest('t4');
    const pieceDigest = (piece: number): string => sha256(artifact.subarray(piece * mib, (piece + 1) * mib));
    const segments = [0, 1, 2].map((index) => ({ index, firstPiece: index * 4, infoHash: 'x', pieceSha256: [0, 1, 2, 3].map((i) => pieceDigest(index * 4 + i)) }));
    const restartedApi: SeedJobDeps['api'] = { ...api, manifest: async (id) => ({ ...view, transferId: id, manifest: { ...view.manifest!, segments, complete: false } }), publishManifest: async () => undefined };
    // Piece 5 was damaged on disk since.
    const damaged = segments[1]!.pieceSha256[1]!;
    await chmod(chunkPath(store.layout, damaged), 0o644);
    await writeFile(chunkPath(store.layout, damaged), randomBytes(mib));
    const second = memoryOrigin();
    await runSeedJob('t4', await depsFor(restartedApi, second.origin, store));
    assert.deepEqual(second.offsets, [5 * mib], 'only the damaged piece is read from the origin');
    assert.ok((await store.readChunk(damaged)).equals(artifact.subarray(5 * mib, 6 * mib)), 'and stored again under its digest');
  });

  it('fails when a segment cannot be published, and starts no read after that', async () => {
    const origin = memoryOrigin();
    // The reads after segment 0 wait until its publication has failed.
    origin.holdFrom(4 * mib);
    const refused = new Error('409 the manifest changed');
    let readsBeforeFailure = -1;
    const { api, completed } = memoryApi(async (index) => {
      if (index !== 0) return;
      readsBeforeFailure = origin.offsets.length;
      setImmediate(origin.release);
      throw refused;
    });
    await assert.rejects(runSeedJob('t2', await depsFor(api, origin.origin)), refused);
    assert.equal(origin.offsets.length, readsBeforeFailure, `no range is read after the failure, got ${origin.offsets.map((offset) => offset / mib).join(', ')} MiB`);
    assert.ok(origin.offsets.length < 6, 'the held reads did not run to the end of the artifact');
    assert.deepEqual(completed, []);
  });
});

describe('readGroups', () => {
  it('reads pieces smaller than the range size several to a range, none across the end of a segment', () => {
    assert.deepEqual(readGroups({ pieceLength: mib / 2, pieceCount: 11, segmentPieces: 5 }, mib), [
      { first: 0, count: 2 },
      { first: 2, count: 2 },
      { first: 4, count: 1 },
      { first: 5, count: 2 },
      { first: 7, count: 2 },
      { first: 9, count: 1 },
      { first: 10, count: 1 },
    ]);
  });

  it('reads a piece of the range size or larger as a range of its own', () => {
    assert.deepEqual(readGroups({ pieceLength: 4 * mib, pieceCount: 3, segmentPieces: 4 }, mib), [
      { first: 0, count: 1 },
      { first: 1, count: 1 },
      { first: 2, count: 1 },
    ]);
  });
});
