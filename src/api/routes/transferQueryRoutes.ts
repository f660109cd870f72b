import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { TorrentEdgeError } from '../../errors.ts';
import { jobStreamId } from '../../events/jobEvents.ts';
import { transferStreamId } from '../../events/transferEvents.ts';
import { decodeCursor } from '../../projections/queries/transferQueries.ts';
import type { AppDeps } from '../appDeps.ts';
import { ErrorBody, EventHistory, ListTransfersQuery, TransferIdParams, TransferPage, TransferWithJobsBody } from '../schemas.ts';

const notFound = (id: string) => new TorrentEdgeError('TE_ERR_TRANSFER_NOT_FOUND', `transfer ${id} does not exist`);

/** The read side: read models for listing and status, the log itself for the audit view. */
export function transferQueryRoutes(deps: AppDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/transfers',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'List transfers, newest first',
          tags: ['transfers'],
          querystring: ListTransfersQuery,
          response: { 200: TransferPage, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
        },
      },
      async (request) => {
        const { limit, cursor, status } = request.query;
        const after = cursor === undefined ? undefined : decodeCursor(cursor);
        if (cursor !== undefined && after === undefined) throw new TorrentEdgeError('TE_ERR_VALIDATION', 'cursor is not one this api returned');
        return deps.queries.listTransfers({ limit, ...(after ? { after } : {}), ...(status ? { status } : {}) });
      },
    );

    app.get(
      '/api/transfers/:id',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'A transfer with its per-node jobs',
          tags: ['transfers'],
          params: TransferIdParams,
          response: { 200: TransferWithJobsBody, 404: ErrorBody, 401: ErrorBody, 403: ErrorBody },
        },
      },
      async (request) => {
        const transfer = await deps.queries.getTransfer(request.params.id);
        if (transfer === undefined) throw notFound(request.params.id);
        return transfer;
      },
    );

    app.get(
      '/api/transfers/:id/events',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'The full event history of a transfer and its jobs, in log order, with metadata (audit view)',
          tags: ['audit'],
          params: TransferIdParams,
          response: { 200: EventHistory, 404: ErrorBody, 401: ErrorBody, 403: ErrorBody },
        },
      },
      async (request) => {
        const { id } = request.params;
        // Job stream ids are job-<transferId>.<nodeId>: the prefix up to the dot is the transfer's.
        const jobPrefix = jobStreamId(id, '');
        const events = await deps.eventLog.readStreamsWithPrefix([transferStreamId(id), jobPrefix]);
        const own = events.filter((event) => event.streamId === transferStreamId(id) || event.streamId.startsWith(jobPrefix));
        if (own.length === 0) throw notFound(id);
        return {
          transferId: id,
          events: own.map((event) => ({
            globalPosition: event.globalPosition,
            streamId: event.streamId,
            streamRevision: event.streamRevision,
            eventId: event.eventId,
            type: event.type,
            schemaVersion: event.schemaVersion,
            data: event.data as Record<string, unknown>,
            metadata: event.metadata as unknown as Record<string, unknown>,
            recordedAt: event.recordedAt.toISOString(),
          })),
        };
      },
    );
  };
}
