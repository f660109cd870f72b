import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

/**
 * OpenTelemetry tracing. One rollout is one trace: the REST request's span is the parent of the
 * command's, whose append span's context is stored in every event's metadata (`traceparent`); the
 * relay, the job assigner and the consumers continue from there, and Kafka headers carry it on.
 * Without an exporter no spans are recorded, but the W3C context still passes through unchanged.
 */
export interface TracingOptions {
  serviceName: string;
  /** OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces. */
  otlpEndpoint?: string;
  /** An exporter of one's own (tests use an in-memory one); exported span by span. */
  exporter?: SpanExporter;
}

export interface Tracing {
  shutdown(): Promise<void>;
}

export function startTracing(options: TracingOptions): Tracing {
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const processors = [
    ...(options.exporter ? [new SimpleSpanProcessor(options.exporter)] : []),
    ...(options.otlpEndpoint ? [new BatchSpanProcessor(new OTLPTraceExporter({ url: options.otlpEndpoint }))] : []),
  ];
  if (processors.length === 0) return { shutdown: async () => undefined };
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName }),
    spanProcessors: processors,
  });
  provider.register();
  return { shutdown: () => provider.shutdown() };
}

const tracer = () => trace.getTracer('torrentedge');

// Our own W3C propagator rather than the global one: the context must pass through events and
// messages even in a process that registered no tracing at all (an embedding, a test).
const w3c = new W3CTraceContextPropagator();

export interface TraceHeaders {
  traceparent?: string;
  tracestate?: string;
}

/** The context a W3C traceparent (from a header or event metadata) names; the root when absent. */
export function contextFrom(headers: TraceHeaders): Context {
  if (headers.traceparent === undefined) return ROOT_CONTEXT;
  return w3c.extract(ROOT_CONTEXT, { ...headers }, defaultTextMapGetter);
}

/** W3C headers for a context, to put in event metadata or message headers. */
export function traceHeadersOf(ctx: Context): TraceHeaders {
  const carrier: Record<string, string> = {};
  w3c.inject(ctx, carrier, defaultTextMapSetter);
  return {
    ...(carrier.traceparent === undefined ? {} : { traceparent: carrier.traceparent }),
    ...(carrier.tracestate === undefined ? {} : { tracestate: carrier.tracestate }),
  };
}

/** Runs `fn` in a span that is a child of `parent`; the span records an error and ends either way. */
export async function inSpan<T>(
  name: string,
  options: { parent: Context; kind?: SpanKind; attributes?: Attributes },
  fn: (span: Span, ctx: Context) => Promise<T>,
): Promise<T> {
  const span = tracer().startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, ...(options.attributes ? { attributes: options.attributes } : {}) }, options.parent);
  const ctx = trace.setSpan(options.parent, span);
  try {
    return await context.with(ctx, () => fn(span, ctx));
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    throw error;
  } finally {
    span.end();
  }
}

export function startSpan(name: string, options: { parent: Context; kind?: SpanKind; attributes?: Attributes }): { span: Span; ctx: Context } {
  const span = tracer().startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, ...(options.attributes ? { attributes: options.attributes } : {}) }, options.parent);
  return { span, ctx: trace.setSpan(options.parent, span) };
}

export { SpanKind };
