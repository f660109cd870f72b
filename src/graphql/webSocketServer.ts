import type { Server } from 'node:http';
import type { DocumentNode, ExecutionArgs, GraphQLError, GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { hasScope, type Principal, type TokenStore } from '../api/auth/tokens.ts';
import type { GraphqlServer } from './yogaServer.ts';

const bearer = /^Bearer ([^\s]+)$/i;

/** What yoga's envelop hands out per operation (its own typings leave these as `any`). */
interface Enveloped {
  schema: GraphQLSchema;
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
  contextFactory: () => Promise<unknown>;
  parse: (source: string) => DocumentNode;
  validate: (schema: GraphQLSchema, document: DocumentNode) => readonly GraphQLError[];
}

type EnvelopedArgs = ExecutionArgs & { rootValue: { execute: (args: ExecutionArgs) => unknown; subscribe: (args: ExecutionArgs) => unknown } };

/** The principal of connection params `{ authorization: 'Bearer …' }`, with at least `read`. */
export function principalOf(params: Readonly<Record<string, unknown>> | undefined, tokens: TokenStore): Principal | undefined {
  const header = params?.authorization ?? params?.Authorization;
  const match = typeof header === 'string' ? bearer.exec(header) : null;
  const principal = match === null ? undefined : tokens.authenticate(match[1]!);
  return principal !== undefined && hasScope(principal, 'read') ? principal : undefined;
}

/**
 * graphql-ws on the api's HTTP server at /graphql. Operations run through yoga's envelop (same
 * schema, limits and error masking as HTTP). A connection without a valid token is closed with
 * 4403 before any operation runs.
 */
export function attachGraphqlWebSocket(server: Server, yoga: GraphqlServer, tokens: TokenStore) {
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: 64 * 1024 });
  const principals = new WeakMap<WebSocket, Principal>();
  const disposable = useServer(
    {
      onConnect: (ctx) => {
        const principal = principalOf(ctx.connectionParams, tokens);
        if (principal === undefined) return false;
        principals.set(ctx.extra.socket, principal);
        return true;
      },
      execute: (args) => (args as EnvelopedArgs).rootValue.execute(args) as never,
      subscribe: (args) => (args as EnvelopedArgs).rootValue.subscribe(args) as never,
      onSubscribe: async (ctx, _id, payload) => {
        const principal = principals.get(ctx.extra.socket);
        if (principal === undefined) throw new Error('graphql-ws subscribed before onConnect accepted');
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({ principal, params: payload }) as Enveloped;
        const args: EnvelopedArgs = {
          schema,
          operationName: payload.operationName ?? null,
          document: parse(payload.query),
          variableValues: payload.variables ?? null,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
        const errors = validate(args.schema, args.document);
        return errors.length > 0 ? errors : args;
      },
    },
    wss,
  );
  return {
    async close(): Promise<void> {
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
