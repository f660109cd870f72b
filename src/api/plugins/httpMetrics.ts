import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../observability/metrics.ts';

export function registerHttpMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequestDuration.observe(
      // The route pattern, not the URL: ids in paths would explode the label set.
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
}
