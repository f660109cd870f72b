import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppDeps } from '../appDeps.ts';
import { createTracker, type TrackerDeps } from '../../tracker/tracker.ts';
import { createTrackerMetrics } from '../../tracker/trackerMetrics.ts';

/**
 * The private swarm's HTTP tracker (BEP 3, compact replies per BEP 23). BitTorrent clients cannot
 * send an Authorization header, so the route takes no bearer token: the announce key in the path
 * is the credential, checked by the tracker on every announce.
 */
export function trackerRoutes(deps: Pick<AppDeps, 'logger' | 'metrics'> & { tracker: TrackerDeps }): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tracker = createTracker({
      ...deps.tracker,
      metrics: createTrackerMetrics(deps.metrics.registry),
      logger: deps.logger.child({ component: 'tracker' }),
    });

    app.get(
      '/tracker/:key/announce',
      {
        config: { bearer: false },
        // Fastify's per-request info lines would write the announce key (a credential) into the
        // log, about 33 times a second for a 1,000-node fleet; failures still log at warn and up.
        logLevel: 'warn',
        schema: {
          summary: 'BitTorrent announce (BEP 3): a bencoded dictionary, or `failure reason` with HTTP 200',
          tags: ['tracker'],
          security: [],
          params: Type.Object({ key: Type.String() }),
        },
      },
      async (request, reply) => {
        const body = await tracker.announce({
          key: request.params.key,
          // info_hash and peer_id are raw bytes: the parsed query has already decoded them as UTF-8.
          rawUrl: request.raw.url ?? '',
          // The socket's address, never a header or the `ip` parameter: a peer announces only itself.
          remoteAddress: request.socket.remoteAddress,
        });
        return reply.type('text/plain').send(body);
      },
    );
  };
}
