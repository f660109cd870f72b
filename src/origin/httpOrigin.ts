import { Agent, interceptors, request } from 'undici';
import { TorrentEdgeError } from '../errors.ts';
import type { Origin } from './origin.ts';
import { RangeInterrupted, readResumably } from './resumableRange.ts';

function fileNameOf(url: URL): string {
  const last = decodeURIComponent(url.pathname.split('/').filter(Boolean).pop() ?? '');
  // The name only labels the one file; anything path-like is flattened.
  // eslint-disable-next-line no-control-regex
  const safe = last.replace(/[/\\\u0000-\u001f]/g, '_');
  return safe === '' || safe === '.' || safe === '..' ? 'artifact' : safe;
}

// A 70 GB artifact is about a thousand range reads: one dropped connection must not fail the seed.
const readAttempts = 5;

/**
 * How long a range's body may go without a byte (from the response headers on) before its
 * connection is given up and the rest of the range read on another (resumableRange.ts): a
 * connection gone silent, the peer gone without a reset, would otherwise hold its read for
 * undici's five minutes. The wait for the headers is not bounded by it.
 */
const defaultStallMs = 10_000;

/**
 * Follows redirects as fetch did (release assets, model hubs and presigned URLs answer 302), and
 * drops credentials on a redirect to another host. Its own, so a dispatcher set up for fetch
 * elsewhere in the process is not assumed.
 */
const dispatcher = new Agent().compose(interceptors.redirect({ maxRedirections: 5 }));
// Some CDNs and firewalls refuse a request without one.
const userAgent = { 'user-agent': 'torrentedge' };

/**
 * One file over HTTP(S), read with Range requests so that several pieces are fetched in
 * parallel and a restarted seed reads only what it lacks. A server that ignores Range is refused
 * rather than downloaded whole once per piece. Reads are pinned to the version described (a
 * strong ETag as If-Match, else Last-Modified as If-Unmodified-Since), so a file replaced
 * mid-read fails loudly (412) instead of mixing versions.
 */
export function createHttpOrigin(url: string, options: { headers?: Record<string, string>; stallMs?: number } = {}): Origin {
  const parsed = new URL(url);
  const stallMs = options.stallMs ?? defaultStallMs;
  // close() ends the reads in flight: a drained or fenced seed job does not wait for them.
  const closed = new AbortController();
  let pinned: Record<string, string> = {};
  return {
    async describe() {
      const { statusCode, headers, body } = await request(url, { method: 'HEAD', headers: { ...userAgent, ...options.headers }, dispatcher });
      await body.dump();
      if (statusCode < 200 || statusCode > 299) throw new TorrentEdgeError(statusCode === 404 ? 'TE_ERR_NOT_FOUND' : 'TE_ERR_UNAVAILABLE', `origin ${url} answered HEAD with ${statusCode}`);
      const header = headerOf(headers, 'content-length');
      const length = header === null ? NaN : Number(header);
      if (!Number.isSafeInteger(length) || length <= 0) throw new TorrentEdgeError('TE_ERR_VALIDATION', `origin ${url} gives no usable Content-Length (${header})`);
      if (headerOf(headers, 'accept-ranges') !== 'bytes') throw new TorrentEdgeError('TE_ERR_VALIDATION', `origin ${url} does not accept byte ranges`);
      const etag = headerOf(headers, 'etag');
      const modified = headerOf(headers, 'last-modified');
      const version = etag ?? modified ?? undefined;
      pinned = etag !== null && !etag.startsWith('W/') ? { 'if-match': etag } : modified !== null ? { 'if-unmodified-since': modified } : {};
      return { files: [{ path: fileNameOf(parsed), length, ...(version === undefined ? {} : { version: version.slice(0, 256) }) }] };
    },
    async read(fileIndex, offset, count) {
      if (fileIndex !== 0) throw new RangeError(`an HTTP origin has one file, not ${fileIndex + 1}`);
      const headers = { ...userAgent, ...options.headers, ...pinned };
      return readResumably(count, (into, held) => readRange(url, headers, { into, held, offset, stallMs, signal: closed.signal }), {
        attempts: readAttempts,
        retriable: (error) => !(error instanceof TorrentEdgeError) || error.code === 'TE_ERR_UNAVAILABLE',
        backoffMs: (failed) => 100 * 2 ** failed,
        signal: closed.signal,
      });
    },
    async close() {
      closed.abort(new TorrentEdgeError('TE_ERR_UNAVAILABLE', `the origin ${url} is closed`));
    },
  };
}

const headerOf = (headers: Record<string, string | string[] | undefined>, name: string): string | null => {
  const value = headers[name];
  return value === undefined ? null : Array.isArray(value) ? (value[0] ?? null) : value;
};

/**
 * The rest of one range, from `held` bytes in, read straight into the range's buffer. fetch's web
 * stream and arrayBuffer() took about twice the CPU for the same bytes (`npm run bench --
 * origin-read`: 0.51–0.56 of it), on the seed, whose CPU every other node waits on.
 */
async function readRange(
  url: string,
  headers: Record<string, string>,
  read: { into: Buffer; held: number; offset: number; stallMs: number; signal: AbortSignal },
): Promise<void> {
  const { into, held, stallMs, signal } = read;
  const offset = read.offset + held;
  const count = into.length - held;
  const bounds = `${offset}-${offset + count - 1}`;
  const range = `bytes ${bounds}/`;
  let received = 0;
  try {
    const { statusCode, headers: answer, body } = await request(url, { headers: { ...headers, range: `bytes=${bounds}` }, dispatcher, bodyTimeout: stallMs, signal });
    if (statusCode === 412) {
      await body.dump();
      throw new TorrentEdgeError('TE_ERR_MANIFEST_CONFLICT', `origin ${url} changed since it was described (412 Precondition Failed)`);
    }
    if (statusCode !== 206) {
      await body.dump();
      throw new TorrentEdgeError('TE_ERR_UNAVAILABLE', `origin ${url} answered a range request with ${statusCode}, not 206`);
    }
    // The wrong bytes of the right length would be hashed into the manifest: the range must be the one asked for.
    const contentRange = headerOf(answer, 'content-range');
    if (contentRange !== null && !contentRange.startsWith(range)) {
      await body.dump();
      throw new TorrentEdgeError('TE_ERR_UNAVAILABLE', `origin ${url} sent ${contentRange} for ${range}`);
    }
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        if (received + chunk.length > count) throw new TorrentEdgeError('TE_ERR_UNAVAILABLE', `origin ${url} sent more than the ${count} bytes of its range`);
        chunk.copy(into, held + received);
        received += chunk.length;
      }
    } catch (error) {
      body.destroy();
      throw error;
    }
  } catch (error) {
    throw error instanceof TorrentEdgeError ? error : new RangeInterrupted(held + received, error);
  }
  // Ended cleanly, but short: the server's fault, not the connection's, so nothing of it is kept.
  if (received !== count) throw new TorrentEdgeError('TE_ERR_UNAVAILABLE', `origin ${url} sent ${received} bytes of a ${count}-byte range`);
}
