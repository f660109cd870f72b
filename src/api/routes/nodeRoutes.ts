import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppDeps } from '../appDeps.ts';
import { commandContextOf } from '../commandContext.ts';
import { hasScope, mayActForNode } from '../auth/tokens.ts';
import { TorrentEdgeError } from '../../errors.ts';
import { ErrorBody, NodeIdParams, RegisterNodeBody } from '../schemas.ts';

const NodeBody = Type.Object({
  nodeId: Type.String(),
  labels: Type.Record(Type.String(), Type.String()),
  casVolume: Type.String(),
  capacityBytes: Type.Integer(),
  registeredAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

/** Fleet membership: workers register their node (idempotently, at every start); transfers target nodes. */
export function nodeRoutes(deps: AppDeps): FastifyPluginAsyncTypebox {
  const clock = deps.clock ?? (() => new Date());
  return async (app) => {
    app.put(
      '/api/nodes/:nodeId',
      {
        // Operators (write) register nodes, and a worker registers its own (node token); see below.
        config: { scope: 'read' },
        schema: {
          summary: 'Register a node, or update its labels, CAS volume and capacity',
          tags: ['nodes'],
          params: NodeIdParams,
          body: RegisterNodeBody,
          response: {
            200: Type.Object({ nodeId: Type.String(), status: Type.String(), requestId: Type.String() }),
            400: ErrorBody,
            401: ErrorBody,
            403: ErrorBody,
            409: ErrorBody,
          },
        },
      },
      async (request) => {
        const principal = request.principal!;
        if (!hasScope(principal, 'write') && !mayActForNode(principal, request.params.nodeId)) {
          throw new TorrentEdgeError('TE_ERR_FORBIDDEN', `registering node ${request.params.nodeId} needs the "write" scope or that node's own token`);
        }
        const { result } = await deps.nodes.commands.registerNode(request.params.nodeId, request.body, commandContextOf(request, clock));
        return result;
      },
    );

    app.get(
      '/api/nodes',
      {
        config: { scope: 'read' },
        schema: { summary: 'The registered nodes', tags: ['nodes'], response: { 200: Type.Object({ items: Type.Array(NodeBody) }), 401: ErrorBody, 403: ErrorBody } },
      },
      async () => ({ items: await deps.nodes.queries.listNodes() }),
    );
  };
}
