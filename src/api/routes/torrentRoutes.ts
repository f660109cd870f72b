import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { TorrentEdgeError } from '../../errors.ts';
import { announceUrl } from '../../tracker/announceKey.ts';
import type { ManifestSegment } from '../../commands/manifestDecisions.ts';
import type { AppDeps } from '../appDeps.ts';
import { ErrorBody, TransferIdParams } from '../schemas.ts';
import { SegmentParams } from '../workerSchemas.ts';

const errors = { 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };

/**
 * A .torrent around the info dictionary exactly as the seed published it: the bytes are spliced,
 * not re-encoded, so the info hash is the one in the manifest. Keys in bencoded dictionaries are
 * sorted, and "announce" sorts before "info".
 */
function torrentFileOf(segment: ManifestSegment, announce: string): Buffer {
  const url = Buffer.from(announce, 'utf8');
  return Buffer.concat([Buffer.from(`d8:announce${url.length}:`), url, Buffer.from('4:info'), Buffer.from(segment.info, 'base64'), Buffer.from('e')]);
}

/**
 * The transfer's segment torrents with a private announce URL. A node's token gets a key bound to
 * the node (the tracker orders its peers by rack and zone); any other reader gets an external
 * key, so a stock BitTorrent client can join the swarm too.
 */
export function torrentRoutes(deps: AppDeps): FastifyPluginAsyncTypebox {
  const tracker = deps.tracker;
  return async (app) => {
    if (tracker === undefined) return;

    const announceFor = (request: FastifyRequest, transferId: string): string => {
      const subject = request.principal?.subject ?? '';
      const nodeId = subject.startsWith('node:') ? subject.slice('node:'.length) : null;
      return announceUrl(`${request.protocol}://${request.host}`, tracker.keys.issue({ transferId, nodeId }));
    };

    async function segmentsOf(transferId: string, maxStalenessMs?: number): Promise<Array<ManifestSegment | undefined>> {
      const state = await deps.transfers.currentState(transferId, maxStalenessMs);
      if (state.status === 'none') throw new TorrentEdgeError('TE_ERR_TRANSFER_NOT_FOUND', `transfer ${transferId} does not exist`);
      const manifest = state.manifest;
      if (manifest === null) return [];
      return Array.from({ length: Math.ceil(manifest.pieceCount / manifest.segmentPieces) }, (_, i) => manifest.segments[i]);
    }

    app.get(
      '/api/transfers/:id/torrent',
      {
        config: { scope: 'read' },
        schema: {
          summary: "The transfer's segment torrents: each published one with its infohash and download path",
          tags: ['torrents'],
          params: TransferIdParams,
          response: { 200: Type.Object({ transferId: Type.String(), torrents: Type.Array(Type.Object({ index: Type.Integer(), infoHash: Type.Union([Type.String(), Type.Null()]), url: Type.Union([Type.String(), Type.Null()]) })) }), ...errors },
        },
      },
      async (request) => {
        const segments = await segmentsOf(request.params.id);
        return {
          transferId: request.params.id,
          torrents: segments.map((segment, index) => ({
            index,
            infoHash: segment?.infoHash ?? null,
            url: segment === undefined ? null : `/api/transfers/${request.params.id}/torrent/${index}`,
          })),
        };
      },
    );

    app.get(
      '/api/transfers/:id/torrent/:index',
      { config: { scope: 'read' }, schema: { summary: 'One segment as a .torrent file with a private announce URL', tags: ['torrents'], params: SegmentParams, response: { 200: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }), ...errors } } },
      async (request, reply) => {
        // The state may be cached for a moment; a seed asks for a segment right after publishing it,
        // so a miss is read again from the log before it is a 404.
        const segment = (await segmentsOf(request.params.id))[request.params.index] ?? (await segmentsOf(request.params.id, 0))[request.params.index];
        if (segment === undefined) throw new TorrentEdgeError('TE_ERR_NOT_FOUND', `segment ${request.params.index} of transfer ${request.params.id} is not published`);
        return reply
          .type('application/x-bittorrent')
          .header('content-disposition', `attachment; filename="${request.params.id}.part-${request.params.index}.torrent"`)
          .send(torrentFileOf(segment, announceFor(request, request.params.id)));
      },
    );
  };
}
