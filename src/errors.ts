/**
 * One registry of stable error codes. Each maps to an HTTP status and says whether a client
 * may retry the same request unchanged.
 */
export const errorRegistry = {
  TE_ERR_VALIDATION: { status: 400, retriable: false },
  TE_ERR_INVALID_MAGNET: { status: 400, retriable: false },
  TE_ERR_INVALID_REQUEST_ID: { status: 400, retriable: false },
  TE_ERR_BODY_TOO_LARGE: { status: 413, retriable: false },
  TE_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, retriable: false },
  TE_ERR_UNAUTHENTICATED: { status: 401, retriable: false },
  TE_ERR_FORBIDDEN: { status: 403, retriable: false },
  TE_ERR_NOT_FOUND: { status: 404, retriable: false },
  TE_ERR_TRANSFER_NOT_FOUND: { status: 404, retriable: false },
  TE_ERR_JOB_NOT_FOUND: { status: 404, retriable: false },
  TE_ERR_ILLEGAL_TRANSITION: { status: 409, retriable: false },
  TE_ERR_TRANSFER_EXISTS: { status: 409, retriable: false },
  TE_ERR_JOB_EXISTS: { status: 409, retriable: false },
  TE_ERR_STALE_FENCING_TOKEN: { status: 409, retriable: false },
  TE_ERR_LEASE_NOT_GRANTED: { status: 409, retriable: false },
  TE_ERR_CHUNK_OUT_OF_RANGE: { status: 400, retriable: false },
  TE_ERR_MANIFEST_CONFLICT: { status: 409, retriable: false },
  TE_ERR_IDEMPOTENCY_MISMATCH: { status: 409, retriable: false },
  TE_ERR_CONCURRENCY: { status: 503, retriable: true },
  TE_ERR_UNKNOWN_PROJECTION: { status: 400, retriable: false },
  TE_ERR_UNAVAILABLE: { status: 503, retriable: true },
  TE_ERR_INTERNAL: { status: 500, retriable: true },
} as const;

export type ErrorCode = keyof typeof errorRegistry;

export class TorrentEdgeError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'TorrentEdgeError';
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return errorRegistry[this.code].status;
  }

  get retriable(): boolean {
    return errorRegistry[this.code].retriable;
  }
}

/** The log rejected an append: the stream moved since it was read. Handlers retry on this alone. */
export class RevisionConflictError extends Error {
  readonly streamId: string;
  readonly actualRevision: number;

  constructor(streamId: string, expected: string, actualRevision: number) {
    super(`stream ${streamId} is at revision ${actualRevision}, expected ${expected}`);
    this.name = 'RevisionConflictError';
    this.streamId = streamId;
    this.actualRevision = actualRevision;
  }
}

export function idempotencyMismatch(requestId: string): TorrentEdgeError {
  return new TorrentEdgeError(
    'TE_ERR_IDEMPOTENCY_MISMATCH',
    `X-Request-ID ${requestId} was already used for a different command; use a new request id for a new intent`,
    { requestId },
  );
}
