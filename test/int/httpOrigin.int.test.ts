import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { TorrentEdgeError } from '../../src/errors.ts';
import { createHttpOrigin } from '../../src/origin/httpOrigin.ts';
import { waitFor } from '../helpers/waitFor.ts';

const content = randomBytes(3 * 1024 * 1024 + 17);
const etag = '"v1"';

/** How the server misbehaves for the next range request, if it does. */
type Fault = 'none' | 'changed' | 'drop-once' | 'stall-once' | 'stall-each' | 'trickle-each' | 'short' | 'long' | 'wrong-range' | 'whole-file';

/** What a stalling response sends before it goes silent, the connection left open. */
const stallAfterBytes = 256 * 1024;

describe('the HTTP origin, against a server on loopback', () => {
  let server: Server;
  let base = '';
  let fault: Fault = 'none';
  const ranges: Array<{ range: string | undefined; ifMatch: string | undefined; userAgent: string | undefined }> = [];

  const serve = (request: IncomingMessage, response: ServerResponse): void => {
    if (request.url === '/moved.bin') {
      response.writeHead(302, { location: '/model.bin' });
      return void response.end();
    }
    if (request.url === '/no-ranges') {
      response.writeHead(200, { 'content-length': content.length });
      return void response.end();
    }
    if (request.url !== '/model.bin') {
      response.writeHead(404);
      return void response.end();
    }
    if (request.method === 'HEAD') {
      response.writeHead(200, { 'content-length': content.length, 'accept-ranges': 'bytes', etag });
      return void response.end();
    }
    ranges.push({ range: request.headers.range, ifMatch: request.headers['if-match'], userAgent: request.headers['user-agent'] });
    const [start, end] = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? '')!.slice(1).map(Number) as [number, number];
    const body = content.subarray(start, end + 1);
    if (fault === 'changed') {
      response.writeHead(412);
      return void response.end();
    }
    if (fault === 'whole-file') {
      response.writeHead(200, { 'content-length': content.length });
      return void response.end(content);
    }
    if (fault === 'short') {
      response.writeHead(206, { 'content-length': body.length - 1 });
      return void response.end(body.subarray(1));
    }
    if (fault === 'long') {
      response.writeHead(206, { 'content-length': body.length + 1 });
      return void response.end(Buffer.concat([body, Buffer.from([0])]));
    }
    if (fault === 'wrong-range') {
      response.writeHead(206, { 'content-length': body.length, 'content-range': `bytes ${start + 1}-${end + 1}/${content.length}` });
      return void response.end(content.subarray(start + 1, end + 2));
    }
    response.writeHead(206, { 'content-length': body.length, 'content-range': `bytes ${start}-${end}/${content.length}` });
    if (fault === 'drop-once') {
      fault = 'none';
      // Half the range, then the connection goes: a reset mid-body.
      return void response.write(body.subarray(0, body.length >> 1), () => request.socket.destroy());
    }
    // A few bytes, then silence, on every connection.
    if (fault === 'trickle-each') return void response.write(body.subarray(0, 1024));
    if (fault === 'stall-once' || fault === 'stall-each') {
      if (fault === 'stall-once') fault = 'none';
      // Some of the range, then silence on an open connection: a sender waiting out retransmission timeouts.
      if (body.length > stallAfterBytes) return void response.write(body.subarray(0, stallAfterBytes));
    }
    response.end(body);
  };

  before(async () => {
    server = createServer(serve);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const reset = (next: Fault): void => {
    fault = next;
    ranges.length = 0;
  };
  const rejectsWith = async (promise: Promise<unknown>, code: string, message: RegExp): Promise<void> => {
    await assert.rejects(promise, (error: unknown) => error instanceof TorrentEdgeError && error.code === code && message.test(error.message));
  };

  it('describes the file by HEAD and reads exact ranges, pinned to the version described', async () => {
    const origin = createHttpOrigin(`${base}/model.bin`);
    assert.deepEqual(await origin.describe(), { files: [{ path: 'model.bin', length: content.length, version: etag }] });
    reset('none');
    const [first, last] = await Promise.all([origin.read(0, 0, 1024 * 1024), origin.read(0, 3 * 1024 * 1024, 17)]);
    assert.deepEqual(first, content.subarray(0, 1024 * 1024));
    assert.deepEqual(last, content.subarray(3 * 1024 * 1024));
    assert.deepEqual(ranges.map((r) => r.ifMatch), [etag, etag]);
    assert.deepEqual(ranges.map((r) => r.userAgent), ['torrentedge', 'torrentedge']);
  });

  it('follows a redirect, as to a release asset or a presigned URL', async () => {
    const origin = createHttpOrigin(`${base}/moved.bin`);
    assert.equal((await origin.describe()).files[0]!.length, content.length);
    reset('none');
    assert.deepEqual(await origin.read(0, 4096, 4096), content.subarray(4096, 8192));
  });

  it('refuses a server without byte ranges, and names a missing file', async () => {
    await rejectsWith(createHttpOrigin(`${base}/no-ranges`).describe(), 'TE_ERR_VALIDATION', /does not accept byte ranges/);
    await rejectsWith(createHttpOrigin(`${base}/gone.bin`).describe(), 'TE_ERR_NOT_FOUND', /answered HEAD with 404/);
  });

  it('fails at once, without retrying, when the file changed since it was described', async () => {
    const origin = createHttpOrigin(`${base}/model.bin`);
    await origin.describe();
    reset('changed');
    await rejectsWith(origin.read(0, 0, 4096), 'TE_ERR_MANIFEST_CONFLICT', /412/);
    assert.equal(ranges.length, 1);
  });

  it('reads a range again after the connection dropped mid-body', async () => {
    const origin = createHttpOrigin(`${base}/model.bin`);
    await origin.describe();
    reset('drop-once');
    assert.deepEqual(await origin.read(0, 1024, 1024 * 1024), content.subarray(1024, 1024 + 1024 * 1024));
    // The half that came is kept: only the rest is asked for again.
    assert.deepEqual(
      ranges.map((r) => r.range),
      [`bytes=1024-${1024 + 1024 * 1024 - 1}`, `bytes=${1024 + 512 * 1024}-${1024 + 1024 * 1024 - 1}`],
    );
  });

  it('gives up a connection whose body goes silent, and reads the rest of the range on another', async () => {
    const origin = createHttpOrigin(`${base}/model.bin`, { stallMs: 1000 });
    await origin.describe();
    reset('stall-once');
    const length = 1024 * 1024;
    assert.deepEqual(await origin.read(0, 4096, length), content.subarray(4096, 4096 + length));
    assert.deepEqual(ranges.map((r) => r.range), [`bytes=4096-${4096 + length - 1}`, `bytes=${4096 + stallAfterBytes}-${4096 + length - 1}`]);
  });

  it('resumes a range as often as each connection brings more of it, beyond the attempts a failing read gets', async () => {
    const origin = createHttpOrigin(`${base}/model.bin`, { stallMs: 1000 });
    await origin.describe();
    reset('stall-each');
    // Five stalls, one more than a read that fails is given retries for, then the last part whole.
    const length = 6 * stallAfterBytes;
    assert.deepEqual(await origin.read(0, 0, length), content.subarray(0, length));
    // Each request asks only for what has not come: no byte twice.
    assert.deepEqual(
      ranges.map((r) => r.range),
      Array.from({ length: 6 }, (_, i) => `bytes=${i * stallAfterBytes}-${length - 1}`),
    );
  });

  it('ends the reads in flight when closed, as a drained seed job closes it, and starts no other', async () => {
    const origin = createHttpOrigin(`${base}/model.bin`);
    await origin.describe();
    reset('stall-once');
    const read = origin.read(0, 0, 1024 * 1024);
    await waitFor('the range asked for', () => ranges.length === 1);
    await origin.close();
    await rejectsWith(read, 'TE_ERR_UNAVAILABLE', /is closed/);
    await rejectsWith(origin.read(0, 0, 4096), 'TE_ERR_UNAVAILABLE', /is closed/);
    assert.equal(ranges.length, 1, 'no resume after the close');
  });

  it('fails a read whose every connection brings a few bytes and goes silent, after its five attempts', async () => {
    const origin = createHttpOrigin(`${base}/model.bin`, { stallMs: 200 });
    await origin.describe();
    reset('trickle-each');
    await assert.rejects(origin.read(0, 0, 1024 * 1024), (error: unknown) => (error as { code?: string }).code === 'UND_ERR_BODY_TIMEOUT');
    // Each attempt resumed after the kilobyte before it, but none brought enough to count as going well.
    assert.deepEqual(
      ranges.map((r) => r.range),
      Array.from({ length: 5 }, (_, i) => `bytes=${i * 1024}-${1024 * 1024 - 1}`),
    );
  });

  it('gives up on a server that keeps sending too few bytes, too many, another range, or the whole file', async () => {
    const origin = createHttpOrigin(`${base}/model.bin`);
    await origin.describe();
    reset('short');
    await rejectsWith(origin.read(0, 0, 4096), 'TE_ERR_UNAVAILABLE', /sent 4095 bytes of a 4096-byte range/);
    assert.equal(ranges.length, 5, 'five attempts');
    reset('long');
    await rejectsWith(origin.read(0, 0, 4096), 'TE_ERR_UNAVAILABLE', /sent more than the 4096 bytes of its range/);
    reset('wrong-range');
    await rejectsWith(origin.read(0, 0, 4096), 'TE_ERR_UNAVAILABLE', /sent bytes 1-4096\/\d+ for bytes 0-4095\//);
    reset('whole-file');
    await rejectsWith(origin.read(0, 0, 4096), 'TE_ERR_UNAVAILABLE', /answered a range request with 200, not 206/);
  });
});
