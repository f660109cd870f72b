import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../api/appDeps.ts';
import { createGraphqlServer } from './yogaServer.ts';
import { attachGraphqlWebSocket } from './webSocketServer.ts';

export type GraphqlAppDeps = AppDeps & { graphql: NonNullable<AppDeps['graphql']> };

/**
 * GraphQL as one fastify route (queries, mutations, and subscriptions over SSE), plus graphql-ws
 * on the same HTTP server and path. The route needs the `read` scope like every REST read, so an
 * unauthenticated request, SSE subscriptions included, is a 401 before yoga sees it.
 */
export function graphqlRoutes(deps: GraphqlAppDeps) {
  return async (app: FastifyInstance) => {
    const shutdown = new AbortController();
    const yoga = createGraphqlServer({
      ...deps,
      ...deps.graphql,
      clock: deps.clock ?? (() => new Date()),
      shutdown: shutdown.signal,
    });

    app.route({
      url: '/graphql',
      method: ['GET', 'POST'],
      config: { scope: 'read' },
      schema: { hide: true },
      handler: async (request, reply) => {
        const response = await yoga.handleNodeRequestAndResponse(request, reply, { req: request, reply });
        response.headers.forEach((value, key) => void reply.header(key, value));
        reply.status(response.status);
        // An SSE subscription's body is a stream that ends when the subscription ends.
        return reply.send(response.body);
      },
    });

    const webSocket = attachGraphqlWebSocket(app.server, yoga, deps.tokens);
    // Before the HTTP server waits for open responses: end SSE streams and WebSocket operations.
    app.addHook('preClose', async () => {
      shutdown.abort();
      await webSocket.close();
    });
  };
}
