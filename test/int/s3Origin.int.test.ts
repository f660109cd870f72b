import { silentLogger } from '../../src/observability/logger.ts';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { TorrentEdgeError, type ErrorCode } from '../../src/errors.ts';
import { readStreamRange, type Origin } from '../../src/origin/origin.ts';
import { originFor } from '../../src/origin/originFor.ts';
import { createS3Origin, type S3OriginOptions } from '../../src/origin/s3Origin.ts';
import { startFaultyProxy } from '../helpers/faultyProxy.ts';
import { waitFor } from '../helpers/waitFor.ts';
import { startLocalS3, type LocalS3 } from '../helpers/localS3.ts';

/** Deterministic bytes: SHA-256 in counter mode, so every object and offset has distinct content. */
function bytesOf(seed: string, length: number): Buffer {
  const blocks: Buffer[] = [];
  for (let i = 0; i * 32 < length; i += 1) blocks.push(createHash('sha256').update(`${seed}:${i}`).digest());
  return Buffer.concat(blocks).subarray(0, length);
}

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof TorrentEdgeError, `expected a TorrentEdgeError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  });
}

const withoutVersions = (files: ReadonlyArray<{ path: string; length: number; version?: string }>) => files.map(({ path, length }) => ({ path, length }));

describe('S3 origin against a local S3-compatible server', () => {
  let s3: LocalS3;
  const origins: Origin[] = [];

  before(async () => {
    s3 = await startLocalS3();
  }, { timeout: 180_000 });

  after(async () => {
    await Promise.all(origins.map((origin) => origin.close()));
    await s3?.stop();
  });

  const originOf = (bucket: string, key: string, options: S3OriginOptions = {}): Origin => {
    const origin = createS3Origin({ bucket, key }, s3.settings, { credentials: s3.credentials, ...options });
    origins.push(origin);
    return origin;
  };

  async function bucketWith(bucket: string, objects: Record<string, Buffer>): Promise<void> {
    await s3.client.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const [key, body] of Object.entries(objects)) await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  }

  it('describes one object by its last key segment and reads any range of it', async () => {
    const body = bytesOf('single', 100_003);
    await bucketWith('single', { 'models/llama/weights.bin': body, 'models/llama/other.bin': bytesOf('other', 10) });
    const origin = originOf('single', 'models/llama/weights.bin');
    const described = await origin.describe();
    assert.deepEqual(withoutVersions(described.files), [{ path: 'weights.bin', length: body.length }]);
    assert.match(described.files[0]!.version ?? '', /^"[0-9a-f]{32}"$/, 'the ETag pins the version');

    for (const [offset, length] of [[0, 1], [0, body.length], [65_536, 16_384], [body.length - 1, 1], [99_000, 1_003]] as const) {
      assert.deepEqual(await origin.read(0, offset, length), body.subarray(offset, offset + length), `bytes ${offset}+${length}`);
    }
    // Ranges that tile the object, of uneven sizes, give it back whole.
    const parts: Buffer[] = [];
    for (let offset = 0, step = 1; offset < body.length; offset += step, step = step * 3 + 7) parts.push(await origin.read(0, offset, Math.min(step, body.length - offset)));
    assert.deepEqual(Buffer.concat(parts), body);

    await assert.rejects(origin.read(0, body.length - 10, 11), RangeError);
    await assert.rejects(origin.read(1, 0, 1), RangeError);
  });

  it('describes a prefix as every object under it, followed across ListObjectsV2 pages, in key byte order', async () => {
    const objects = {
      'model/shard-00002-of-00004.safetensors': bytesOf('s2', 3000),
      'model/shard-00004-of-00004.safetensors': bytesOf('s4', 1200),
      'model/shard-00001-of-00004.safetensors': bytesOf('s1', 4096),
      'model/shard-00003-of-00004.safetensors': bytesOf('s3', 1),
      'model/config.json': Buffer.from('{"layers":2}'),
      'model/Tokenizer.json': bytesOf('tok', 77),
      'model/empty.txt': Buffer.alloc(0),
      'model/weights/a.bin': bytesOf('wa', 5),
      'model/weights-b.bin': bytesOf('wb', 6),
      'model/weights_c.bin': bytesOf('wc', 7),
      'model/ü.txt': Buffer.from('umlaut'),
      // A console's folder marker is no file; neighbours that only share a prefix are not under it.
      'model/weights/': Buffer.alloc(0),
      'model-v2/shard.bin': bytesOf('v2', 3),
      'modelx': bytesOf('x', 3),
    };
    await bucketWith('prefix', objects);
    const origin = originOf('prefix', 'model/', { listPageSize: 2 });
    const { files } = await origin.describe();
    // Byte order, not locale order: 'T' < 'c', '-' < '/' < '_', and UTF-8 'ü' after ASCII.
    const expected = [
      'Tokenizer.json',
      'config.json',
      'empty.txt',
      'shard-00001-of-00004.safetensors',
      'shard-00002-of-00004.safetensors',
      'shard-00003-of-00004.safetensors',
      'shard-00004-of-00004.safetensors',
      'weights-b.bin',
      'weights/a.bin',
      'weights_c.bin',
      'ü.txt',
    ];
    assert.deepEqual(withoutVersions(files), expected.map((path) => ({ path, length: objects[`model/${path}` as keyof typeof objects].length })));
    for (const [index, { path, length }] of files.entries()) {
      if (length > 0) assert.deepEqual(await origin.read(index, 0, length), objects[`model/${path}` as keyof typeof objects], path);
    }
  });

  it('keeps nested keys as folders relative to the prefix', async () => {
    await bucketWith('nested', { 'runs/7/ckpt/a/b/c/d.bin': bytesOf('d', 9), 'runs/7/ckpt/a/e.bin': bytesOf('e', 8), 'runs/7/ckpt/top.bin': bytesOf('t', 7) });
    assert.deepEqual(withoutVersions((await originOf('nested', 'runs/7/ckpt/').describe()).files), [
      { path: 'a/b/c/d.bin', length: 9 },
      { path: 'a/e.bin', length: 8 },
      { path: 'top.bin', length: 7 },
    ]);
    assert.deepEqual((await originOf('nested', 'runs/7/').describe()).files.map((file) => file.path), ['ckpt/a/b/c/d.bin', 'ckpt/a/e.bin', 'ckpt/top.bin']);
  });

  it('rejects keys that would not be safe paths, before any read', async () => {
    // S3 keys are any bytes; the server stores these verbatim. (A backslash it refuses to store at
    // all; artifactPathProblem's own tests cover that case.)
    await bucketWith('unsafe', {
      'dots/ok.bin': bytesOf('ok', 4),
      'dots/../escape.bin': bytesOf('esc', 4),
      'empty-segment/a//b.bin': bytesOf('ab', 4),
      'dot/./b.bin': bytesOf('b', 4),
      'full-marker/dir/': bytesOf('not empty', 4),
      'clash/a': bytesOf('file', 4),
      'clash/a/b': bytesOf('under the file', 4),
      'single/..': bytesOf('dotdot', 4),
    });
    await rejectsWith(originOf('unsafe', 'dots/').describe(), 'TE_ERR_VALIDATION', /dots\/\.\.\/escape\.bin: its path "\.\.\/escape\.bin" has a "\.\." segment/);
    await rejectsWith(originOf('unsafe', 'empty-segment/').describe(), 'TE_ERR_VALIDATION', /has an empty segment/);
    await rejectsWith(originOf('unsafe', 'dot/').describe(), 'TE_ERR_VALIDATION', /has a "\." segment/);
    await rejectsWith(originOf('unsafe', 'full-marker/').describe(), 'TE_ERR_VALIDATION', /"dir\/" has an empty segment/);
    await rejectsWith(originOf('unsafe', 'clash/').describe(), 'TE_ERR_VALIDATION', /a\/b lies under a path that is itself an object/);
    await rejectsWith(originOf('unsafe', 'single/..').describe(), 'TE_ERR_VALIDATION', /has a "\.\." segment/);
  });

  it('maps a missing bucket, key or prefix to TE_ERR_NOT_FOUND', async () => {
    await bucketWith('present', { 'there.bin': bytesOf('there', 10) });
    await rejectsWith(originOf('absent-bucket', 'there.bin').describe(), 'TE_ERR_NOT_FOUND');
    await rejectsWith(originOf('absent-bucket', 'prefix/').describe(), 'TE_ERR_NOT_FOUND', /NoSuchBucket/);
    await rejectsWith(originOf('present', 'not-there.bin').describe(), 'TE_ERR_NOT_FOUND');
    await rejectsWith(originOf('present', 'nothing-under/').describe(), 'TE_ERR_NOT_FOUND', /holds no objects/);

    const origin = originOf('present', 'there.bin');
    await origin.describe();
    await s3.client.send(new DeleteObjectCommand({ Bucket: 'present', Key: 'there.bin' }));
    await rejectsWith(origin.read(0, 0, 10), 'TE_ERR_NOT_FOUND', /NoSuchKey/);
  });

  it('maps an endpoint that refuses connections to TE_ERR_UNAVAILABLE', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    server.close();
    await once(server, 'close');
    const origin = createS3Origin({ bucket: 'any', key: 'thing.bin' }, { endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', forcePathStyle: true }, { credentials: s3.credentials });
    origins.push(origin);
    await rejectsWith(origin.describe(), 'TE_ERR_UNAVAILABLE', /ECONNREFUSED/);
  });

  it('resumes a range whose connection is reset or goes silent mid-body, where it stopped, until closed', async () => {
    const mib = 1024 * 1024;
    await bucketWith('flaky', { 'big.bin': bytesOf('big', 2 * mib) });
    const proxy = await startFaultyProxy(Number(new URL(s3.endpoint).port));
    try {
      const origin = createS3Origin({ bucket: 'flaky', key: 'big.bin' }, { ...s3.settings, endpoint: proxy.endpoint }, { credentials: s3.credentials, stallMs: 1000 });
      origins.push(origin);
      await origin.describe();
      for (const kind of ['cut', 'stall'] as const) {
        proxy.arm({ kind, afterBytes: 256 * 1024 });
        assert.deepEqual(await origin.read(0, 4096, mib), bytesOf('big', 4096 + mib).subarray(4096), kind);
        // What came is kept: the second request asks for the rest only. A reset drops what the
        // client had not read yet, so how much came varies; it is never more than went through.
        assert.equal(proxy.ranges.length, 2, `${kind}: ${proxy.ranges.join(', ')}`);
        const [, from, to] = /^bytes=(\d+)-(\d+)$/.exec(proxy.ranges[1]!)!.map(Number);
        assert.ok(from! > 4096 && from! < 4096 + 256 * 1024, `${kind}: resumed at ${from}`);
        assert.equal(to, 4096 + mib - 1);
      }
      // Closed (a drained seed job) while a body is silent: the read ends, and is not resumed.
      proxy.arm({ kind: 'stall', afterBytes: 256 * 1024 });
      const read = origin.read(0, 0, mib);
      await waitFor('the range asked for', () => proxy.ranges.length === 1);
      await origin.close();
      await rejectsWith(read, 'TE_ERR_UNAVAILABLE', /is closed/);
      assert.equal(proxy.ranges.length, 1);
    } finally {
      await proxy.stop();
    }
  });

  it('fails a read of an object replaced after describe() instead of mixing versions', async () => {
    await bucketWith('replaced', { 'one.bin': bytesOf('v1', 2048), 'many/a.bin': bytesOf('a1', 512), 'many/b.bin': bytesOf('b1', 512) });
    const single = originOf('replaced', 'one.bin');
    const prefix = originOf('replaced', 'many/');
    await single.describe();
    await prefix.describe();
    assert.deepEqual(await single.read(0, 0, 16), bytesOf('v1', 16));
    assert.deepEqual(await prefix.read(1, 0, 16), bytesOf('b1', 16));

    // Same length, other bytes: only the ETag tells the versions apart.
    await s3.client.send(new PutObjectCommand({ Bucket: 'replaced', Key: 'one.bin', Body: bytesOf('v2', 2048) }));
    await s3.client.send(new PutObjectCommand({ Bucket: 'replaced', Key: 'many/b.bin', Body: bytesOf('b2', 512) }));
    await rejectsWith(single.read(0, 16, 16), 'TE_ERR_MANIFEST_CONFLICT', /PreconditionFailed/);
    await rejectsWith(prefix.read(1, 16, 16), 'TE_ERR_MANIFEST_CONFLICT', /PreconditionFailed/);
    assert.deepEqual(await prefix.read(0, 16, 16), bytesOf('a1', 32).subarray(16), 'an untouched neighbour still reads');
  });

  it('is what originFor gives for an s3 source, given the worker\'s S3 settings', async () => {
    // Not described: without fixed credentials the SDK's chain would go looking (instance metadata).
    const origin = await originFor({ kind: 's3', bucket: 'stream', key: 'ckpt/' }, { s3: s3.settings, pushRoots: [], stagingDir: '/nonexistent', logger: silentLogger() });
    origins.push(origin);
    assert.equal(typeof origin.describe, 'function');
  });

  it('serves pieces that span objects through readStreamRange, as the seed job reads them', async () => {
    // 1000 + 10 + 1500 + 700 bytes in pieces of 1024: piece 0 spans three objects, piece 1 two.
    const shards = { 'ckpt/shard-1': bytesOf('p1', 1000), 'ckpt/shard-2': bytesOf('p2', 10), 'ckpt/shard-3': bytesOf('p3', 1500), 'ckpt/shard-4': bytesOf('p4', 700) };
    await bucketWith('stream', shards);
    const stream = Buffer.concat(Object.values(shards));
    const origin = originOf('stream', 'ckpt/');
    const { files } = await origin.describe();
    assert.deepEqual(files.map((file) => file.length), [1000, 10, 1500, 700]);
    const pieceLength = 1024;
    const pieces: Buffer[] = [];
    for (let offset = 0; offset < stream.length; offset += pieceLength) {
      const length = Math.min(pieceLength, stream.length - offset);
      const piece = await readStreamRange(origin, files, offset, length);
      assert.deepEqual(piece, stream.subarray(offset, offset + length), `piece at ${offset}`);
      pieces.push(piece);
    }
    assert.equal(pieces.length, 4);
    assert.deepEqual(Buffer.concat(pieces), stream);
  });
});
