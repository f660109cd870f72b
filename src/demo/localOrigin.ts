import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';
import rangeParser from 'range-parser';

/**
 * A plain HTTP origin for one file, with Range support, that counts the bytes it serves: the
 * demo's (and the end-to-end tests') measure of origin egress.
 */
export async function startLocalOrigin(path: string, options: { host?: string } = {}) {
  const size = (await stat(path)).size;
  const name = basename(path);
  let bytesServed = 0;
  const server: Server = createServer((request, response) => {
    if (request.url !== `/${encodeURIComponent(name)}`) return void response.writeHead(404).end();
    response.setHeader('accept-ranges', 'bytes');
    if (request.method === 'HEAD') return void response.writeHead(200, { 'content-length': size }).end();
    const ranges = request.headers.range === undefined ? undefined : rangeParser(size, request.headers.range);
    if (Array.isArray(ranges) && ranges.length === 1) {
      const { start, end } = ranges[0]!;
      response.writeHead(206, { 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${size}` });
      const stream = createReadStream(path, { start, end });
      stream.on('data', (chunk) => (bytesServed += chunk.length));
      return void stream.pipe(response);
    }
    if (ranges !== undefined) return void response.writeHead(416, { 'content-range': `bytes */${size}` }).end();
    response.writeHead(200, { 'content-length': size });
    const stream = createReadStream(path);
    stream.on('data', (chunk) => (bytesServed += chunk.length));
    stream.pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, options.host ?? '127.0.0.1', resolve));
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}/${encodeURIComponent(name)}`,
    bytesServed: (): number => bytesServed,
    async close(): Promise<void> {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
