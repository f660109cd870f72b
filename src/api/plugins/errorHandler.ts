import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorRegistry, TorrentEdgeError, type ErrorCode } from '../../errors.ts';

export function sendError(reply: FastifyReply, request: FastifyRequest, code: ErrorCode, message: string): FastifyReply {
  const { status, retriable } = errorRegistry[code];
  return reply.code(status).type('application/json').send({ error: { code, message, requestId: request.id, retriable } });
}

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

function describeValidation(context: string | undefined, issues: readonly ValidationIssue[]): string {
  const issue = issues[0];
  if (issue === undefined) return 'request is invalid';
  const where = `${context ?? 'request'}${issue.instancePath ?? ''}`.replaceAll('/', '.');
  const extra = issue.params?.additionalProperty;
  if (typeof extra === 'string') return `${where} has an unknown field "${extra}"`;
  const allowed = issue.params?.allowedValues;
  if (Array.isArray(allowed)) return `${where} must be one of ${allowed.join(', ')}`;
  return `${where} ${issue.message ?? 'is invalid'}`;
}

/** Fastify's own failures, by code, mapped to ours. */
const fastifyCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'TE_ERR_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'TE_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'TE_ERR_VALIDATION',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'TE_ERR_VALIDATION',
  FST_ERR_CTP_INVALID_JSON_BODY: 'TE_ERR_VALIDATION',
};

/** One error shape for every failure: `{ error: { code, message, requestId, retriable } }`. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | TorrentEdgeError | Error, request, reply) => {
    if (error instanceof TorrentEdgeError) {
      if (error.status >= 500) request.log.warn({ err: error }, 'command failed');
      return sendError(reply, request, error.code, error.message);
    }
    const fastifyError = error as FastifyError;
    if (fastifyError.validation !== undefined) {
      return sendError(reply, request, 'TE_ERR_VALIDATION', describeValidation(fastifyError.validationContext, fastifyError.validation));
    }
    const mapped = fastifyError.code === undefined ? undefined : fastifyCodes[fastifyError.code];
    if (mapped !== undefined) return sendError(reply, request, mapped, error.message);
    if (error instanceof SyntaxError || fastifyError.statusCode === 400) {
      return sendError(reply, request, 'TE_ERR_VALIDATION', `body is not valid JSON: ${error.message}`);
    }
    // Unexpected: logged in full, masked for the caller.
    request.log.error({ err: error }, 'unhandled error');
    return sendError(reply, request, 'TE_ERR_INTERNAL', 'internal error; the request id is in the server log');
  });

  app.setNotFoundHandler((request, reply) => sendError(reply, request, 'TE_ERR_NOT_FOUND', `no route ${request.method} ${request.url}`));
}
