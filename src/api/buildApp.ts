import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { AppDeps, AppOptions } from './appDeps.ts';
import { registerAuth } from './plugins/auth.ts';
import { registerErrorHandling } from './plugins/errorHandler.ts';
import { registerHttpMetrics } from './plugins/httpMetrics.ts';
import { registerRequestId, requestIdFor } from './plugins/requestId.ts';
import { registerTracing } from './plugins/tracing.ts';
import { createValidatorCompiler } from './plugins/validation.ts';
import { operationsRoutes } from './routes/operationsRoutes.ts';
import { transferCommandRoutes } from './routes/transferCommandRoutes.ts';
import { transferQueryRoutes } from './routes/transferQueryRoutes.ts';
import { nodeRoutes } from './routes/nodeRoutes.ts';
import { jobRoutes } from './routes/jobRoutes.ts';
import { manifestRoutes } from './routes/manifestRoutes.ts';
import { torrentRoutes } from './routes/torrentRoutes.ts';
import { trackerRoutes } from './routes/trackerRoutes.ts';
import { graphqlRoutes } from '../graphql/graphqlRoutes.ts';
import { dashboardRoutes } from '../dashboard/dashboardRoutes.ts';
import packageJson from '../../package.json' with { type: 'json' };

/** The api as a fastify instance, not listening: tests inject(), the server module listens. */
export async function buildApp(deps: AppDeps, options: AppOptions): Promise<FastifyInstance> {
  // Fastify's logger type is narrower than pino's; the instance is the same.
  const logger: FastifyBaseLogger = deps.logger;
  const app = Fastify({
    loggerInstance: logger,
    genReqId: requestIdFor,
    // Every request's log lines carry `requestId`, the X-Request-ID the caller sent or we generated.
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    bodyLimit: options.bodyLimitBytes,
    // Announce keys are one path segment carrying the node id (up to 128 characters): past the default 100.
    routerOptions: { maxParamLength: 256 },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(createValidatorCompiler());
  registerErrorHandling(app);
  registerTracing(app);
  registerRequestId(app);
  registerAuth(app, deps.tokens);
  registerHttpMetrics(app, deps.metrics);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'TorrentEdge control plane', version: packageJson.version, description: packageJson.description },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  await app.register(operationsRoutes(deps));
  await app.register(transferCommandRoutes(deps));
  await app.register(transferQueryRoutes(deps));
  await app.register(nodeRoutes(deps));
  await app.register(jobRoutes(deps));
  await app.register(manifestRoutes(deps));
  await app.register(torrentRoutes(deps));
  if (deps.tracker !== undefined) await app.register(trackerRoutes({ ...deps, tracker: deps.tracker }));
  if (deps.graphql !== undefined) {
    await app.register(graphqlRoutes({ ...deps, graphql: deps.graphql }));
    await app.register(dashboardRoutes());
  }

  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
