import { Type } from 'typebox';

/** Route schemas: they validate requests, shape responses and generate /api/openapi.json. */

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ examples: ['TE_ERR_VALIDATION'] }),
      message: Type.String(),
      requestId: Type.String(),
      retriable: Type.Boolean(),
    }),
  },
  { $id: 'Error', description: 'Every error: a stable code, a message for people, the request id' },
);

const nodeId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$' });
const labelKey = Type.String({ pattern: '^[a-z0-9][a-z0-9./_-]{0,62}$' });
const labelValue = Type.String({ maxLength: 63 });

export const NodeIdParams = Type.Object({ nodeId });

export const RegisterNodeBody = Type.Object(
  {
    labels: Type.Record(labelKey, labelValue, { default: {} }),
    casVolume: Type.String({ minLength: 1, maxLength: 4096 }),
    capacityBytes: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);

export const Targets = Type.Union([
  Type.Object({ kind: Type.Literal('all') }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('nodes'), nodeIds: Type.Array(nodeId, { minItems: 1, maxItems: 10_000 }) }, { additionalProperties: false }),
  Type.Object(
    {
      kind: Type.Literal('selector'),
      labels: Type.Record(labelKey, labelValue),
    },
    { additionalProperties: false },
  ),
]);

export const CreateTransferBody = Type.Object(
  {
    magnetURI: Type.Optional(Type.String({ minLength: 1, maxLength: 8192, description: 'magnet:?xt=urn:btih:…' })),
    source: Type.Optional(
      Type.Object(
        { url: Type.String({ minLength: 1, maxLength: 4096, description: 'https://…, http://…, s3://bucket/key (a prefix ending in / for many objects), or file:///path with seedNode' }) },
        { additionalProperties: false },
      ),
    ),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    autoStart: Type.Optional(Type.Boolean({ default: false })),
    targets: Type.Optional(Targets),
    destination: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    seedNode: Type.Optional(nodeId),
  },
  { additionalProperties: false, description: 'Exactly one of magnetURI and source' },
);

export const CommandResultBody = Type.Object({
  id: Type.String({ format: 'uuid' }),
  status: Type.String(),
  requestId: Type.String(),
});

export const TransferIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const CancelBody = Type.Union([
  Type.Object({ reason: Type.Optional(Type.String({ maxLength: 1024 })) }, { additionalProperties: false }),
  Type.Null(),
]);

const Bytes = Type.Integer({ minimum: 0 });

export const TransferBody = Type.Object({
  id: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  source: Type.Object({}, { additionalProperties: true }),
  totalBytes: Type.Union([Bytes, Type.Null()]),
  pieceLength: Type.Union([Type.Integer(), Type.Null()]),
  pieceCount: Type.Union([Type.Integer(), Type.Null()]),
  progress: Type.Number({ minimum: 0, maximum: 1 }),
  nodes: Type.Object({ total: Type.Integer(), completed: Type.Integer(), failed: Type.Integer() }),
  bytes: Type.Object({ verified: Bytes, origin: Bytes, peer: Bytes, cas: Bytes }),
  failureReason: Type.Union([Type.String(), Type.Null()]),
  requestId: Type.String(),
  createdBy: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

export const JobBody = Type.Object({
  nodeId: Type.String(),
  state: Type.String(),
  role: Type.String(),
  workerId: Type.Union([Type.String(), Type.Null()]),
  highestFencingToken: Type.Integer(),
  chunksVerified: Type.Integer(),
  progress: Type.Number(),
  bytes: Type.Object({ origin: Bytes, peer: Bytes, cas: Bytes }),
  failureReason: Type.Union([Type.String(), Type.Null()]),
  assignedAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  completedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export const TransferWithJobsBody = Type.Intersect([TransferBody, Type.Object({ jobs: Type.Array(JobBody) })]);

export const ListTransfersQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(Type.String({ maxLength: 256 })),
    status: Type.Optional(Type.Union(['requested', 'running', 'paused', 'completed', 'failed', 'cancelled'].map((s) => Type.Literal(s)))),
  },
  { additionalProperties: false },
);

export const TransferPage = Type.Object({ items: Type.Array(TransferBody), nextCursor: Type.Union([Type.String(), Type.Null()]) });

export const EventBody = Type.Object({
  globalPosition: Type.Integer(),
  streamId: Type.String(),
  streamRevision: Type.Integer(),
  eventId: Type.String(),
  type: Type.String(),
  schemaVersion: Type.Integer(),
  data: Type.Object({}, { additionalProperties: true }),
  metadata: Type.Object({}, { additionalProperties: true }),
  recordedAt: Type.String({ format: 'date-time' }),
});

export const EventHistory = Type.Object({ transferId: Type.String(), events: Type.Array(EventBody) });
