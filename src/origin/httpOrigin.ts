import { setTimeout as delay } from 'node:timers/promises';
import { TorrentEdgeError } from '../errors.ts';
import type { Origin } from './origin.ts';

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
 * One file over HTTP(S), read with Range requests so that several pieces are fetched in
 * parallel and a restarted seed reads only what it lacks. A server that ignores Range is refused
 * rather than downloaded whole once per piece. Reads are pinned to the version described (a
 * strong ETag as If-Match, else Last-Modified as If-Unmodified-Since), so a file replaced
 * mid-read fails loudly (412) instead of mixing versions.
 */
export function createHttpOrigin(url: string, options: { headers?: Record<string, string> } = {}): Origin {
  const parsed = new URL(url);
  let pinned: Record<string, string> = {};
  return {
    async describe() {
      const response = await fetch(url, { method: 'HEAD', headers: options.headers ?? {} });
      if (!response.ok) throw new TorrentEdgeError(response.status === 404 ? 'TE_ERR_NOT_FOUND' : 'TE_ERR_UNAVAILABLE', `origin ${url} answered HEAD with ${response.status}`);
      const header = response.headers.get('content-length');
      const length = header === null ? NaN : Number(header);
      if (!Number.isSafeInteger(length) || length <= 0) throw new TorrentEdgeError('TE_ERR_VALIDATION', `origin ${url} gives no usable Content-Length (${header})`);
      if (response.headers.get('accept-ranges') !== 'bytes') throw new TorrentEdgeError('TE_ERR_VALIDATION', `origin ${url} does not accept byte ranges`);
      const etag = response.headers.get('etag');
      const modified = response.headers.get('last-modified');
      const version = etag ?? modified ?? undefined;
      pinned = etag !== null && !etag.startsWith('W/') ? { 'if-match': etag } : modified !== null ? { 'if-unmodified-since': modified } : {};
      return { files: [{ path: fileNameOf(parsed), length, ...(version === undefined ? {} : { version: version.slice(0, 256) }) }] };
    },
    async read(fileIndex, offset, count) {
      if (fileIndex !== 0) throw new RangeError(`an HTTP origin has one file, not ${fileIndex + 1}`);
      for (let attempt = 1; ; attempt++) {
        try {
          return await readRange(url, { ...options.headers, ...pinned, range: `bytes=${offset}-${offset + count - 1}` }, count);
        } catch (error) {
          const retriable = !(error instanceof TorrentEdgeError) || error.code === 'TE_ERR_UNAVAILABLE';
          if (!retriable || attempt >= readAttempts) throw error;
          await delay(100 * 2 ** attempt);
        }
      }
    },
    async close() {},
  };
}

async function readRange(url: string, headers: Record<string, string>, count: number): Promise<Buffer> {
  const response = await fetch(url, { headers });
  if (response.status === 412) {
    await response.body?.cancel();
    throw new TorrentEdgeError('TE_ERR_MANIFEST_CONFLICT', `origin ${url} changed since it was described (412 Precondition Failed)`);
  }
  if (response.status !== 206) {
    await response.body?.cancel();
    throw new TorrentEdgeError('TE_ERR_UNAVAILABLE', `origin ${url} answered a range request with ${response.status}, not 206`);
  }
  const bytes = Buffer.from(await response.arrayBuffer());
  if (bytes.length !== count) throw new TorrentEdgeError('TE_ERR_UNAVAILABLE', `origin ${url} sent ${bytes.length} bytes of a ${count}-byte range`);
  return bytes;
}
