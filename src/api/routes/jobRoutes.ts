import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { TorrentEdgeError } from '../../errors.ts';
import { mayActForNode } from '../auth/tokens.ts';
import type { AppDeps } from '../appDeps.ts';
import { commandContextOf } from '../commandContext.ts';
import { ErrorBody, JobBody, NodeIdParams } from '../schemas.ts';
import { ChunksVerifiedBody, FencedBody, FencedReasonBody, GrantLeaseBody, HeartbeatBody, JobParams, JobResultBody } from '../workerSchemas.ts';
import { sendEmpty } from './emptyReply.ts';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

/** Node tokens act for their own node only; the route's scope check has already passed. */
export function assertActsForNode(request: FastifyRequest, nodeId: string): void {
  if (request.principal === undefined || !mayActForNode(request.principal, nodeId)) {
    throw new TorrentEdgeError('TE_ERR_FORBIDDEN', `the token of ${request.principal?.subject ?? 'nobody'} cannot act for node ${nodeId}`);
  }
}

/**
 * What workers tell the control plane about their jobs. Every effect carries the fencing token of
 * the lease it was made under, and the job decider rejects a token lower than the highest granted.
 */
export function jobRoutes(deps: AppDeps): FastifyPluginAsyncTypebox {
  const clock = deps.clock ?? (() => new Date());
  return async (app) => {
    const route = <B>(summary: string, body: B) => ({
      config: { scope: 'node' as const },
      schema: { summary, tags: ['jobs'], params: JobParams, body, response: { 200: JobResultBody, ...errors } },
    });
    const replayed = (outcome: { duplicate: boolean }, reply: { header(name: string, value: string): unknown }) => {
      if (outcome.duplicate) reply.header('idempotent-replayed', 'true');
    };
    const base = '/api/jobs/:transferId/:nodeId';

    app.post(`${base}/lease`, route('Record the fenced lease a worker acquired for this job', GrantLeaseBody), async (request, reply) => {
      assertActsForNode(request, request.params.nodeId);
      const outcome = await deps.jobs.grantLease(request.params, request.body, commandContextOf(request, clock));
      replayed(outcome, reply);
      return outcome.result;
    });
    app.post(`${base}/chunks`, route('Report chunks that passed SHA-256 on the node', ChunksVerifiedBody), async (request, reply) => {
      assertActsForNode(request, request.params.nodeId);
      const outcome = await deps.jobs.reportChunksVerified(request.params, request.body, commandContextOf(request, clock));
      replayed(outcome, reply);
      return outcome.result;
    });
    app.post(`${base}/complete`, route('The node holds the whole artifact, verified and materialized', FencedBody), async (request, reply) => {
      assertActsForNode(request, request.params.nodeId);
      const outcome = await deps.jobs.completeJob(request.params, request.body.fencingToken, commandContextOf(request, clock));
      replayed(outcome, reply);
      return outcome.result;
    });
    app.post(`${base}/fail`, route('The job failed on the node', FencedReasonBody), async (request, reply) => {
      assertActsForNode(request, request.params.nodeId);
      const outcome = await deps.jobs.failJob(request.params, request.body.fencingToken, request.body.reason, commandContextOf(request, clock));
      replayed(outcome, reply);
      return outcome.result;
    });
    app.post(`${base}/abandon`, route('The worker gives the job up (drain); another may take it over', FencedReasonBody), async (request, reply) => {
      assertActsForNode(request, request.params.nodeId);
      const outcome = await deps.jobs.abandonJob(request.params, request.body.fencingToken, request.body.reason, commandContextOf(request, clock));
      replayed(outcome, reply);
      return outcome.result;
    });

    app.get(
      '/api/nodes/:nodeId/jobs',
      {
        config: { scope: 'node' },
        schema: {
          summary: "The node's jobs in transfers that have not ended (a restarted worker resumes them)",
          tags: ['jobs'],
          params: NodeIdParams,
          response: { 200: Type.Object({ items: Type.Array(Type.Intersect([JobBody, Type.Object({ transferId: Type.String(), transferStatus: Type.String(), traceparent: Type.Union([Type.String(), Type.Null()]) })])) }), ...errors },
        },
      },
      async (request) => {
        assertActsForNode(request, request.params.nodeId);
        return { items: await deps.queries.listActiveJobsOfNode(request.params.nodeId) };
      },
    );

    app.put(
      '/api/nodes/:nodeId/heartbeat',
      {
        config: { scope: 'node' },
        schema: { summary: 'A worker is alive (ephemeral state, not an event)', tags: ['nodes'], params: NodeIdParams, body: HeartbeatBody, response: { 204: Type.Null(), ...errors } },
      },
      async (request, reply) => {
        assertActsForNode(request, request.params.nodeId);
        deps.heartbeats.record({ nodeId: request.params.nodeId, workerId: request.body.workerId, activeJobs: request.body.activeJobs, casBytes: request.body.casBytes ?? null });
        deps.metrics.workerHeartbeatsTotal.inc();
        return sendEmpty(reply, 204);
      },
    );
  };
}
