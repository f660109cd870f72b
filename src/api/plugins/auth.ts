import type { FastifyInstance } from 'fastify';
import { TorrentEdgeError } from '../../errors.ts';
import { hasScope, type Principal, type Scope, type TokenStore } from '../auth/tokens.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route needs; routes without one are open (health, readiness, metrics). */
    scope?: Scope;
    /**
     * `false`: the route takes no bearer token because its callers cannot send one and it checks
     * a credential of its own (the tracker: the announce key in the path). Never with a scope.
     */
    bearer?: false;
  }
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

const bearer = /^Bearer ([^\s]+)$/i;

export function registerAuth(app: FastifyInstance, tokens: TokenStore): void {
  app.decorateRequest('principal', undefined);
  app.addHook('onRoute', (route) => {
    if (route.config?.bearer === false && route.config.scope !== undefined) {
      throw new Error(`route ${route.url} declares both a scope and bearer: false`);
    }
  });
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.bearer === false) return;
    const needed = request.routeOptions.config.scope;
    if (needed === undefined) return;
    const match = bearer.exec(request.headers.authorization ?? '');
    const principal = match === null ? undefined : tokens.authenticate(match[1]!);
    if (principal === undefined) {
      reply.header('www-authenticate', 'Bearer realm="torrentedge"');
      throw new TorrentEdgeError('TE_ERR_UNAUTHENTICATED', 'a valid bearer token is required (Authorization: Bearer <token>)');
    }
    if (!hasScope(principal, needed)) {
      throw new TorrentEdgeError('TE_ERR_FORBIDDEN', `this needs the "${needed}" scope; the token of ${principal.subject} has ${principal.scopes.join(', ')}`);
    }
    request.principal = principal;
  });
}
