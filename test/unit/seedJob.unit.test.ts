import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ContentStore } from '../../src/cas/contentStore.ts';
import type { Origin } from '../../src/origin/origin.ts';
import { runSeedJob, type SeedJobDeps } from '../../src/workers/seedJob.ts';
import type { ManifestView } from '../../src/workers/workerApi.ts';
import { waitFor } from '../helpers/waitFor.ts';

const mib = 2 ** 20;
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** 12 MiB: 1 MiB pieces, three segments of four (planPieceLayout). */
const artifact = randomBytes(12 * mib);

/** An origin over `artifact` that records each range asked for and can hold the reads from an offset on. */
function memoryOrigin() {
  const offsets: number[] = [];
  let gate: { from: number; open: Promise<void>; release: () => void } | undefined;
  const origin: Origin = {
    describe: async () => ({ files: [{ path: 'model.bin', length: artifact.length }] }),
    read: async (_file, offset, length) => {
      offsets.push(offset);
      if (gate !== undefined && offset >= gate.from) await gate.open;
      return Buffer.from(artifact.subarray(offset, offset + length));
    },
    close: async () => undefined,
  };
  return {
    origin,
    offsets,
    holdFrom(from: number) {
      const { promise, resolve } = Promise.withResolvers<void>();
      gate = { from, open: promise, release: resolve };
    },
    release: () => gate?.release(),
  };
}

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

  const depsFor = async (api: SeedJobDeps['api'], origin: Origin): Promise<SeedJobDeps> => {
    cas = await ContentStore.open(join(base, `cas-${Math.random().toString(36).slice(2)}`));
    return {
      api,
      cas,
      engine: { addSegment: async () => ({}) as never },
      origin,
      reporter: { add: () => undefined },
      logger: pino({ level: 'silent' }),
      isHeld: () => true,
      signal: new AbortController().signal,
      onSegmentJoined: () => undefined,
    };
  };

  it('reads on from the origin while a segment is being published, and publishes the segments in order', async () => {
    const origin = memoryOrigin();
    const publication = Promise.withResolvers<void>();
    const { api, published, completed } = memoryApi((index) => (index === 0 ? publication.promise : Promise.resolve()));
    const job = runSeedJob('t1', await depsFor(api, origin.origin));

    // Segment 0's publication is held: the reads go on into segment 1 and beyond.
    await waitFor('reads past the first segment', () => origin.offsets.filter((offset) => offset >= 4 * mib).length >= 4);
    assert.deepEqual(published, []);
    publication.resolve();
    await job;

    assert.deepEqual(published, [0, 1, 2]);
    assert.equal(origin.offsets.length, 12, 'each range is read once');
    assert.deepEqual(completed, [{ path: 'model.bin', length: artifact.length, sha256: sha256(artifact) }]);
    for (let piece = 0; piece < 12; piece++) assert.equal(await cas.hasChunk(sha256(artifact.subarray(piece * mib, (piece + 1) * mib))), true);
  });

  it('fails when a segment cannot be published, and starts no read after that', async () => {
    const origin = memoryOrigin();
    // Segment 1's reads wait until segment 0's publication has failed.
    origin.holdFrom(4 * mib);
    const refused = new Error('409 the manifest changed');
    const { api, completed } = memoryApi(async (index) => {
      if (index !== 0) return;
      setImmediate(origin.release);
      throw refused;
    });
    await assert.rejects(runSeedJob('t2', await depsFor(api, origin.origin)), refused);
    assert.ok(origin.offsets.every((offset) => offset < 8 * mib), `no range of the last segment is read, got ${origin.offsets.map((offset) => offset / mib).join(', ')} MiB`);
    assert.deepEqual(completed, []);
  });
});
