/** Baseline, serving side: a plain Node HTTP server streaming the artifact file, defaults throughout. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';
import type { HttpServerCalls } from './roleProtocol.ts';
import { serveRole } from './serveRole.ts';

let server: Server | undefined;

serveRole<HttpServerCalls>({
  async setup({ path }) {
    const { size } = await stat(path);
    server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
      pipeline(createReadStream(path), response, () => undefined);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return { port: (server.address() as AddressInfo).port };
  },
  async close() {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  },
});
