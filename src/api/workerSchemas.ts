import { Type } from 'typebox';

/** Schemas of the routes workers call: manifest publication, job reports, heartbeats. */

const nodeId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$' });
const sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const fencingToken = Type.Integer({ minimum: 1 });
const artifactFile = Type.Object(
  { path: Type.String({ minLength: 1, maxLength: 4096 }), length: Type.Integer({ minimum: 0 }), version: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })) },
  { additionalProperties: false },
);

export const JobParams = Type.Object({ transferId: Type.String({ format: 'uuid' }), nodeId });
export const SegmentParams = Type.Object({ id: Type.String({ format: 'uuid' }), index: Type.Integer({ minimum: 0, maximum: 1_000_000 }) });

export const PublishManifestBody = Type.Object(
  {
    totalBytes: Type.Integer({ minimum: 1 }),
    pieceLength: Type.Integer({ minimum: 1 }),
    pieceCount: Type.Integer({ minimum: 1 }),
    segmentPieces: Type.Integer({ minimum: 1 }),
    files: Type.Array(artifactFile, { minItems: 1, maxItems: 100_000 }),
  },
  { additionalProperties: false },
);

export const PublishSegmentBody = Type.Object(
  {
    info: Type.String({ minLength: 4, maxLength: 4 * 1024 * 1024, description: 'the bencoded info dictionary, base64' }),
    pieceSha256: Type.Array(sha256, { minItems: 1, maxItems: 65_536 }),
  },
  { additionalProperties: false },
);

export const CompleteManifestBody = Type.Object(
  {
    files: Type.Array(
      Type.Object({ path: Type.String({ minLength: 1, maxLength: 4096 }), length: Type.Integer({ minimum: 0 }), sha256 }, { additionalProperties: false }),
      { minItems: 1, maxItems: 100_000 },
    ),
  },
  { additionalProperties: false },
);

export const GrantLeaseBody = Type.Object(
  { workerId: Type.String({ minLength: 1, maxLength: 256 }), fencingToken },
  { additionalProperties: false },
);

export const ChunksVerifiedBody = Type.Object(
  {
    fencingToken,
    source: Type.Union([Type.Literal('origin'), Type.Literal('peer'), Type.Literal('cas')]),
    chunkIndexes: Type.Array(Type.Integer({ minimum: 0 }), { minItems: 1, maxItems: 100_000 }),
  },
  { additionalProperties: false },
);

export const FencedBody = Type.Object({ fencingToken }, { additionalProperties: false });
export const FencedReasonBody = Type.Object({ fencingToken, reason: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false });

export const JobResultBody = Type.Object({
  transferId: Type.String(),
  nodeId: Type.String(),
  status: Type.String(),
  highestFencingToken: Type.Integer(),
  chunksVerified: Type.Integer(),
  requestId: Type.String(),
});

export const HeartbeatBody = Type.Object(
  {
    workerId: Type.String({ minLength: 1, maxLength: 256 }),
    activeJobs: Type.Integer({ minimum: 0 }),
    casBytes: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

export const ManifestBody = Type.Object({
  transferId: Type.String(),
  status: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  destination: Type.Union([Type.String(), Type.Null()]),
  source: Type.Object({}, { additionalProperties: true }),
  manifest: Type.Union([
    Type.Null(),
    Type.Object({
      totalBytes: Type.Integer(),
      pieceLength: Type.Integer(),
      pieceCount: Type.Integer(),
      segmentPieces: Type.Integer(),
      files: Type.Array(Type.Object({ path: Type.String(), length: Type.Integer(), sha256: Type.Union([Type.String(), Type.Null()]) })),
      segments: Type.Array(
        Type.Union([Type.Null(), Type.Object({ index: Type.Integer(), firstPiece: Type.Integer(), infoHash: Type.String(), pieceSha256: Type.Array(Type.String()) })]),
      ),
      complete: Type.Boolean(),
    }),
  ]),
});
