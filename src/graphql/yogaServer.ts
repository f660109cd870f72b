import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GraphQLError, GraphQLScalarType } from 'graphql';
import { createSchema, createYoga, maskError } from 'graphql-yoga';
import type { Principal } from '../api/auth/tokens.ts';
import { commandContextOf } from '../api/commandContext.ts';
import { exposedError, type GraphqlContext } from './context.ts';
import type { GraphqlDeps } from './graphqlDeps.ts';
import { mutationResolvers } from './mutationResolvers.ts';
import { queryResolvers } from './queryResolvers.ts';
import { subscriptionResolvers } from './subscriptionResolvers.ts';
import { typeDefs } from './typeDefs.ts';

/** The server context: the fastify request over HTTP (already authenticated), the principal over WebSocket. */
export type GraphqlServerContext = { req: FastifyRequest; reply: FastifyReply } | { principal: Principal };

// Measured against the dashboard's own queries (the largest costs about 300); 10× leaves room for
// scripts while a query that fans out over every node's chunks of every transfer is refused.
export const limits = { maxDepth: 10, maxCost: 3000, maxAliases: 15 } as const;

const json = new GraphQLScalarType({ name: 'JSON', serialize: (value) => value, parseValue: (value) => value });

export function createGraphqlServer(deps: GraphqlDeps) {
  const query = queryResolvers(deps);
  const schema = createSchema<GraphqlContext>({
    typeDefs,
    resolvers: [{ JSON: json }, query, mutationResolvers(deps), subscriptionResolvers(deps)],
  });
  return createYoga<GraphqlServerContext, GraphqlContext>({
    schema,
    graphqlEndpoint: '/graphql',
    // The dashboard is the UI; GraphiQL would load its assets from a CDN.
    graphiql: false,
    landingPage: false,
    logging: {
      debug: (...args: unknown[]) => deps.logger.debug({ args }, 'graphql'),
      info: (...args: unknown[]) => deps.logger.info({ args }, 'graphql'),
      warn: (...args: unknown[]) => deps.logger.warn({ args }, 'graphql'),
      error: (...args: unknown[]) => deps.logger.error({ args }, 'graphql'),
    },
    plugins: [
      maxDepthPlugin({ n: limits.maxDepth }),
      costLimitPlugin({ maxCost: limits.maxCost }),
      maxAliasesPlugin({ n: limits.maxAliases }),
    ],
    maskedErrors: {
      isDev: deps.development,
      maskError: (error, message, isDev) => {
        if (error instanceof GraphQLError) {
          const exposed = exposedError(error);
          if (exposed !== undefined) return exposed;
        }
        deps.logger.error({ err: error instanceof GraphQLError ? (error.originalError ?? error) : error }, 'graphql resolver failed');
        return maskError(error, message, isDev);
      },
    },
    context: (initial): GraphqlContext => {
      if ('principal' in initial) {
        const principal = initial.principal;
        return {
          principal,
          commandContext: (requestId) => ({ requestId: requestId ?? randomUUID(), actor: principal.subject, occurredAt: deps.clock().toISOString() }),
        };
      }
      const request = initial.req;
      const principal = request.principal;
      if (principal === undefined) throw new Error('the /graphql route runs only after authentication');
      return {
        principal,
        commandContext: (requestId) => ({ ...commandContextOf(request, deps.clock), ...(requestId == null ? {} : { requestId }) }),
      };
    },
  });
}

export type GraphqlServer = ReturnType<typeof createGraphqlServer>;
