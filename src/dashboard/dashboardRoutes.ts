import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const staticDir = new URL('./static/', import.meta.url);
// The browser build of graphql-ws that npm installed: served as is, so the page needs no build step.
const graphqlWsUmd = new URL('../umd/graphql-ws.min.js', import.meta.resolve('graphql-ws'));

const assets: Record<string, { file: URL; type: string }> = {
  '/dashboard': { file: new URL('index.html', staticDir), type: 'text/html; charset=utf-8' },
  '/dashboard/app.js': { file: new URL('app.js', staticDir), type: 'text/javascript; charset=utf-8' },
  '/dashboard/charts.js': { file: new URL('charts.js', staticDir), type: 'text/javascript; charset=utf-8' },
  '/dashboard/live.js': { file: new URL('live.js', staticDir), type: 'text/javascript; charset=utf-8' },
  '/dashboard/style.css': { file: new URL('style.css', staticDir), type: 'text/css; charset=utf-8' },
  '/dashboard/vendor/graphql-ws.js': { file: graphqlWsUmd, type: 'text/javascript; charset=utf-8' },
};

/**
 * The fleet dashboard: static files, open like the health route, since they hold no data. The
 * page asks for a token (URL fragment or a prompt, kept in sessionStorage) and uses it for
 * GraphQL, where the scopes are checked.
 */
export function dashboardRoutes() {
  return async (app: FastifyInstance) => {
    const cache = new Map<string, Buffer>();
    for (const [url, asset] of Object.entries(assets)) {
      app.get(url, { schema: { hide: true } }, async (_request, reply) => {
        let body = cache.get(url);
        if (body === undefined) {
          body = await readFile(fileURLToPath(asset.file));
          cache.set(url, body);
        }
        return reply
          .type(asset.type)
          .header('cache-control', 'no-cache')
          // Scripts only from this origin; the token never leaves it (connect-src covers ws: on the same host).
          .header('content-security-policy', "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'")
          .header('referrer-policy', 'no-referrer')
          .send(body);
      });
    }
  };
}
