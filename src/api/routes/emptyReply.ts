import type { FastifyReply } from 'fastify';

/**
 * Ends a 204 or 304 with no body at all. `send(null)` serializes the 4 bytes "null": Node drops
 * them for these statuses but keeps `Content-Length: 4`, and undici then closes the keep-alive
 * connection as a broken response, so every poll answered that way cost a new connection.
 */
export function sendEmpty(reply: FastifyReply, statusCode: 204 | 304): FastifyReply {
  return reply.code(statusCode).send();
}
