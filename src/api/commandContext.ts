import type { FastifyRequest } from 'fastify';
import type { CommandContext } from '../events/metadata.ts';
import { traceHeadersOf } from '../observability/tracing.ts';

// W3C trace context, version 00: https://www.w3.org/TR/trace-context/#traceparent-header
const traceparentPattern = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * The metadata every event of this request carries. The trace context is the request span's
 * (so commands become its children); with tracing off, the caller's valid traceparent passes through.
 */
export function commandContextOf(request: FastifyRequest, clock: () => Date): CommandContext {
  const fromSpan = request.traceContext === null ? {} : traceHeadersOf(request.traceContext);
  const traceparent = fromSpan.traceparent ?? request.headers.traceparent;
  const tracestate = fromSpan.tracestate ?? request.headers.tracestate;
  return {
    requestId: request.id,
    actor: request.principal?.subject ?? 'anonymous',
    occurredAt: clock().toISOString(),
    ...(typeof traceparent === 'string' && traceparentPattern.test(traceparent) ? { traceparent } : {}),
    ...(typeof tracestate === 'string' && tracestate.length <= 512 ? { tracestate } : {}),
  };
}
