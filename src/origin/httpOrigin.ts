import { TorrentEdgeError } from '../errors.ts';
import type { Origin } from './origin.ts';

function fileNameOf(url: URL): string {
  const last = decodeURIComponent(url.pathname.split('/').filter(Boolean).pop() ?? '');
  // The name only labels the one file; anything path-like is flattened.
  // eslint-disable-next-line no-control-regex
  const safe = last.replace(/[/\\\u0000-\u001f]/g, '_');
  return safe === '' || safe === '.' || safe === '..' ? 'artifact' : safe;
}

/**
 * One file over HTTP(S), read with Range requests so that several pieces are fetched in
 * parallel and a restarted seed reads only what it lacks. A server that ignores Range is refused
 * rather than downloaded whole once per piece.
 */
export function createHttpOrigin(url: string, options: { headers?: Record<string, string> } = {}): Origin {
  const parsed = new URL(url);
  let length: number | undefined;
  return {
    async describe() {
      const response = await fetch(url, { method: 'HEAD', headers: options.headers ?? {} });
      if (!response.ok) throw new TorrentEdgeError('TE_ERR_UNAVAILABLE', `origin ${url} answered HEAD with ${response.status}`);
      const header = response.headers.get('content-length');
      length = header === null ? NaN : Number(header);
      if (!Number.isSafeInteger(length) || length <= 0) throw new TorrentEdgeError('TE_ERR_VALIDATION', `origin ${url} gives no usable Content-Length (${header})`);
      if (response.headers.get('accept-ranges') !== 'bytes') throw new TorrentEdgeError('TE_ERR_VALIDATION', `origin ${url} does not accept byte ranges`);
      return { files: [{ path: fileNameOf(parsed), length }] };
    },
    async read(fileIndex, offset, count) {
      if (fileIndex !== 0) throw new RangeError(`an HTTP origin has one file, not ${fileIndex + 1}`);
      const response = await fetch(url, { headers: { ...options.headers, range: `bytes=${offset}-${offset + count - 1}` } });
      if (response.status !== 206) {
        await response.body?.cancel();
        throw new TorrentEdgeError('TE_ERR_UNAVAILABLE', `origin ${url} answered a range request with ${response.status}, not 206`);
      }
      const bytes = Buffer.from(await response.arrayBuffer());
      if (bytes.length !== count) throw new TorrentEdgeError('TE_ERR_UNAVAILABLE', `origin ${url} sent ${bytes.length} bytes of a ${count}-byte range`);
      return bytes;
    },
    async close() {},
  };
}
