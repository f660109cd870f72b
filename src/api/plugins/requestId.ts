import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { TorrentEdgeError } from '../../errors.ts';

/** What we accept as an X-Request-ID: printable, header-safe, bounded. */
const requestIdPattern = /^[A-Za-z0-9._:@/+=-]{1,200}$/;
const invalidRequestIds = new WeakSet<IncomingMessage>();

/** Used as fastify's genReqId: the caller's X-Request-ID when valid, otherwise a fresh UUID. */
export function requestIdFor(raw: IncomingMessage): string {
  const header = raw.headers['x-request-id'];
  if (header === undefined) return randomUUID();
  if (typeof header === 'string' && requestIdPattern.test(header)) return header;
  invalidRequestIds.add(raw);
  return randomUUID();
}

/** Every response carries X-Request-ID; a malformed one is a 400 (answered under a generated id). */
export function registerRequestId(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (invalidRequestIds.has(request.raw)) {
      throw new TorrentEdgeError(
        'TE_ERR_INVALID_REQUEST_ID',
        'X-Request-ID must be 1–200 characters of letters, digits and ._:@/+=-',
      );
    }
  });
}
