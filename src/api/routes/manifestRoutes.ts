import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { TorrentEdgeError } from '../../errors.ts';
import type { TransferState } from '../../commands/transferDecider.ts';
import type { AppDeps } from '../appDeps.ts';
import { commandContextOf } from '../commandContext.ts';
import { CommandResultBody, ErrorBody, TransferIdParams } from '../schemas.ts';
import { CompleteManifestBody, ManifestBody, PublishManifestBody, PublishSegmentBody, SegmentParams } from '../workerSchemas.ts';
import { assertActsForNode } from './jobRoutes.ts';
import { sendEmpty } from './emptyReply.ts';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 413: ErrorBody };
// A segment of 64 Ki pieces carries 64 Ki SHA-256s in hex and 64 Ki SHA-1s in base64: about 6 MiB.
const segmentBodyLimitBytes = 8 * 1024 * 1024;
const manifestBodyLimitBytes = 16 * 1024 * 1024;

function manifestView(state: Extract<TransferState, { transferId: string }>) {
  const { manifest, request } = state;
  return {
    transferId: state.transferId,
    status: state.status,
    name: request.name,
    destination: request.destination,
    source: request.source,
    manifest:
      manifest === null
        ? null
        : {
            totalBytes: manifest.totalBytes,
            pieceLength: manifest.pieceLength,
            pieceCount: manifest.pieceCount,
            segmentPieces: manifest.segmentPieces,
            files: manifest.files.map((file, i) => ({ ...file, sha256: manifest.fileDigests?.[i] ?? null })),
            segments: Array.from({ length: Math.ceil(manifest.pieceCount / manifest.segmentPieces) }, (_, index) => {
              const segment = manifest.segments[index];
              return segment === undefined
                ? null
                : { index, firstPiece: index * manifest.segmentPieces, infoHash: segment.infoHash, pieceSha256: [...segment.pieceSha256] };
            }),
            complete: manifest.fileDigests !== null,
          },
  };
}

/**
 * The manifest: the seed publishes the layout, then each segment as soon as it is hashed, then
 * the file digests; every node polls it. Only the node seeding the transfer (or an admin) may
 * publish: for origin and push sources the control plane's SHA-256 manifest is the root of trust.
 */
export function manifestRoutes(deps: AppDeps): FastifyPluginAsyncTypebox {
  const clock = deps.clock ?? (() => new Date());

  async function assertSeeds(request: FastifyRequest, transferId: string): Promise<void> {
    const principal = request.principal;
    if (principal?.scopes.includes('admin') === true) return;
    const nodeId = principal?.subject.startsWith('node:') === true ? principal.subject.slice('node:'.length) : undefined;
    if (nodeId !== undefined) {
      assertActsForNode(request, nodeId);
      const job = await deps.jobs.currentJob({ transferId, nodeId });
      if (job.status !== 'none' && job.role === 'seed') return;
    }
    throw new TorrentEdgeError('TE_ERR_FORBIDDEN', `only the node seeding transfer ${transferId} may publish its manifest`);
  }

  return async (app) => {
    app.get(
      '/api/transfers/:id/manifest',
      { config: { scope: 'read' }, schema: { summary: 'The artifact layout, segment hashes and file digests published so far', tags: ['manifest'], params: TransferIdParams, response: { 200: ManifestBody, 304: Type.Null(), ...errors } } },
      async (request, reply) => {
        const { revision, state } = await deps.transfers.currentStream(request.params.id);
        if (state.status === 'none') throw new TorrentEdgeError('TE_ERR_TRANSFER_NOT_FOUND', `transfer ${request.params.id} does not exist`);
        // Every node polls this while the seed hashes: an unchanged stream costs a 304, not the manifest.
        const etag = `"${revision}"`;
        reply.header('etag', etag);
        if (request.headers['if-none-match'] === etag) return sendEmpty(reply, 304);
        return manifestView(state);
      },
    );

    app.post(
      '/api/transfers/:id/manifest',
      {
        config: { scope: 'node' },
        bodyLimit: manifestBodyLimitBytes,
        schema: { summary: "Publish the artifact's layout: files, piece length, pieces per segment", tags: ['manifest'], params: TransferIdParams, body: PublishManifestBody, response: { 200: CommandResultBody, ...errors } },
      },
      async (request, reply) => {
        await assertSeeds(request, request.params.id);
        const outcome = await deps.transfers.publishManifest(request.params.id, request.body, commandContextOf(request, clock));
        if (outcome.duplicate) reply.header('idempotent-replayed', 'true');
        return outcome.result;
      },
    );

    app.put(
      '/api/transfers/:id/manifest/segments/:index',
      {
        config: { scope: 'node' },
        bodyLimit: segmentBodyLimitBytes,
        schema: { summary: "Publish one segment: its torrent's info dictionary and its pieces' SHA-256", tags: ['manifest'], params: SegmentParams, body: PublishSegmentBody, response: { 200: CommandResultBody, ...errors } },
      },
      async (request, reply) => {
        await assertSeeds(request, request.params.id);
        const outcome = await deps.transfers.publishSegment(request.params.id, request.params.index, request.body, commandContextOf(request, clock));
        if (outcome.duplicate) reply.header('idempotent-replayed', 'true');
        return outcome.result;
      },
    );

    app.post(
      '/api/transfers/:id/manifest/complete',
      {
        config: { scope: 'node' },
        bodyLimit: manifestBodyLimitBytes,
        schema: { summary: "Complete the manifest with every file's whole-file SHA-256", tags: ['manifest'], params: TransferIdParams, body: CompleteManifestBody, response: { 200: CommandResultBody, ...errors } },
      },
      async (request, reply) => {
        await assertSeeds(request, request.params.id);
        const outcome = await deps.transfers.completeManifest(request.params.id, request.body.files, commandContextOf(request, clock));
        if (outcome.duplicate) reply.header('idempotent-replayed', 'true');
        return outcome.result;
      },
    );
  };
}
