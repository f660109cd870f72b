import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { TorrentEdgeError } from '../../errors.ts';
import type { AppDeps } from '../appDeps.ts';
import { ErrorBody } from '../schemas.ts';

const readinessTimeoutMs = 2000;

function withTimeout(check: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([check, timeout]).finally(() => clearTimeout(timer));
}

/** Liveness, readiness, metrics, and the admin operations. */
export function operationsRoutes(deps: AppDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/health',
      { schema: { summary: 'Liveness: the process is serving', tags: ['operations'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
      async () => ({ status: 'ok' as const }),
    );

    app.get(
      '/api/ready',
      {
        schema: {
          summary: 'Readiness: every dependency answered',
          tags: ['operations'],
          response: {
            200: Type.Object({ status: Type.String(), checks: Type.Record(Type.String(), Type.Object({ ok: Type.Boolean(), error: Type.Optional(Type.String()) })) }),
            503: Type.Object({ status: Type.String(), checks: Type.Record(Type.String(), Type.Object({ ok: Type.Boolean(), error: Type.Optional(Type.String()) })) }),
          },
        },
      },
      async (_request, reply) => {
        const results = await Promise.all(
          deps.readiness.map(async (dependency) => {
            const { name } = dependency;
            try {
              await withTimeout(dependency.check(), readinessTimeoutMs);
              return [name, { ok: true }] as const;
            } catch (error) {
              return [name, { ok: false, error: (error as Error).message }] as const;
            }
          }),
        );
        const checks: Record<string, { ok: boolean; error?: string }> = {};
        for (const [name, result] of results) checks[name] = result;
        const ready = results.every(([, result]) => result.ok);
        return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
      },
    );

    app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['operations'], hide: false } }, async (_request, reply) => {
      await deps.beforeScrape?.().catch((error: unknown) => _request.log.warn({ err: error }, 'metrics refresh failed'));
      return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
    });

    app.post(
      '/api/projections/:name/replay',
      {
        config: { scope: 'admin' },
        schema: {
          summary: 'Rebuild a read model from the event log',
          tags: ['operations'],
          params: Type.Object({ name: Type.String({ maxLength: 64 }) }),
          response: { 200: Type.Object({ projection: Type.String(), events: Type.Integer() }), 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
        },
      },
      async (request) => {
        if (deps.replayProjection === undefined) {
          throw new TorrentEdgeError('TE_ERR_UNAVAILABLE', 'this api process runs no projections; replay where the projector runs');
        }
        const { events } = await deps.replayProjection(request.params.name);
        return { projection: request.params.name, events };
      },
    );
  };
}
