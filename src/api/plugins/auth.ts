import type { FastifyInstance } from 'fastify';
import { TorrentEdgeError } from '../../errors.ts';
import { hasScope, type Principal, type Scope, type TokenStore } from '../auth/tokens.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route needs; routes without one are open (health, readiness, metrics). */
    scope?: Scope;
  }
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

const bearer = /^Bearer ([^\s]+)$/i;

export function registerAuth(app: FastifyInstance, tokens: TokenStore): void {
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request, reply) => {
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
