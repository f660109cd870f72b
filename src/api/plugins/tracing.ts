import type { Context, Span } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import { contextFrom, SpanKind, startSpan } from '../../observability/tracing.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request span's context: commands continue the trace from here. */
    traceContext: Context | null;
  }
}

/** A SERVER span per request, child of the caller's W3C traceparent when it sent one. */
export function registerTracing(app: FastifyInstance): void {
  const spans = new WeakMap<object, Span>();
  app.decorateRequest('traceContext', null);
  app.addHook('onRequest', async (request) => {
    const header = (name: string) => (typeof request.headers[name] === 'string' ? (request.headers[name]) : undefined);
    const traceparent = header('traceparent');
    const tracestate = header('tracestate');
    const parent = contextFrom({ ...(traceparent ? { traceparent } : {}), ...(tracestate ? { tracestate } : {}) });
    const route = request.routeOptions.url ?? 'unmatched';
    const { span, ctx } = startSpan(`${request.method} ${route}`, {
      parent,
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': request.method, 'http.route': route, 'url.path': request.url.split('?')[0] ?? '', 'torrentedge.request_id': request.id },
    });
    spans.set(request, span);
    request.traceContext = ctx;
  });
  app.addHook('onResponse', async (request, reply) => {
    const span = spans.get(request);
    if (span === undefined) return;
    span.setAttribute('http.response.status_code', reply.statusCode);
    span.end();
  });
}
