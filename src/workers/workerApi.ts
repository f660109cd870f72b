import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { context } from '@opentelemetry/api';
import type { ChunkSource } from '../events/jobEvents.ts';
import { traceHeadersOf } from '../observability/tracing.ts';

/** An api answer other than 2xx, with the stable error code the api gave. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/**
 * The api could not be reached, or kept answering with a retriable error, through every retry:
 * nothing was decided about the job, so the worker stops it without failing it and picks it up
 * again from the job list once the api answers.
 */
export class ApiUnavailableError extends Error {
  override name = 'ApiUnavailableError';
}

export interface ManifestView {
  transferId: string;
  status: string;
  name: string | null;
  destination: string | null;
  source: { kind: string; url?: string; bucket?: string; key?: string; magnetURI?: string };
  manifest: null | {
    totalBytes: number;
    pieceLength: number;
    pieceCount: number;
    segmentPieces: number;
    files: Array<{ path: string; length: number; sha256: string | null }>;
    segments: Array<null | { index: number; firstPiece: number; infoHash: string; pieceSha256: string[] }>;
    complete: boolean;
  };
}

export interface AssignedJob {
  transferId: string;
  nodeId: string;
  role: string;
  state: string;
  transferStatus: string;
  highestFencingToken: number;
  /** The assignment's trace context: the job runs as its child. */
  traceparent: string | null;
}

type JobKey = { transferId: string; nodeId: string };

const retriableStatus = new Set([502, 503, 504]);

/** The error body's code and its retriable flag (every TE_ERR_* code says whether a retry may succeed). */
function errorOf(text: string): { code: string; message: string; retriable: boolean | undefined } {
  try {
    const parsed = JSON.parse(text) as { error?: { code?: string; message?: string; retriable?: boolean } };
    return { code: parsed.error?.code ?? 'TE_ERR_HTTP', message: parsed.error?.message ?? text, retriable: parsed.error?.retriable };
  } catch {
    return { code: 'TE_ERR_HTTP', message: text, retriable: undefined };
  }
}

/**
 * The worker's only way to the control plane: the REST api with a node token (workers hold no
 * database credentials). Network failures and answers the api marks retriable are retried with
 * backoff for about 15 s under the same X-Request-ID, so a retry of an append that did land is
 * answered from the idempotency key; an api restart inside that window costs nothing.
 */
export function createWorkerApi(options: { apiUrl: string; token: string; logger: Logger; attempts?: number }) {
  const attempts = options.attempts ?? 12;
  const manifests = new Map<string, { etag: string; view: ManifestView }>();

  async function send(method: string, path: string, body: unknown, requestId: string | undefined, extraHeaders: Record<string, string> = {}): Promise<Response> {
    // The job's span (when tracing is on) is the parent of the api's request span.
    const headers: Record<string, string> = { authorization: `Bearer ${options.token}`, ...traceHeadersOf(context.active()), ...extraHeaders };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (requestId !== undefined) headers['x-request-id'] = requestId;
    for (let attempt = 1; ; attempt++) {
      let failure: string;
      try {
        const response = await fetch(`${options.apiUrl}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
        if (response.ok || response.status === 304) return response;
        const text = await response.text();
        const error = errorOf(text);
        const retriable = error.retriable ?? retriableStatus.has(response.status);
        if (!retriable) throw new ApiError(response.status, error.code, `${method} ${path}: ${response.status} ${error.code}: ${error.message}`);
        failure = `${response.status} ${error.code}: ${error.message}`;
      } catch (error) {
        if (error instanceof ApiError) throw error;
        failure = (error as Error).message;
      }
      if (attempt >= attempts) throw new ApiUnavailableError(`${method} ${path}: the api at ${options.apiUrl} did not answer after ${attempts} attempts (${failure})`);
      const backoffMs = Math.min(2000, 50 * 2 ** attempt);
      options.logger.debug({ method, path, attempt, backoffMs, failure }, 'api call failed; retrying');
      await delay(backoffMs);
    }
  }

  async function call<T>(method: string, path: string, body?: unknown, requestId?: string): Promise<T> {
    const response = await send(method, path, body, requestId);
    const text = await response.text();
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  const job = ({ transferId, nodeId }: JobKey): string => `/api/jobs/${transferId}/${encodeURIComponent(nodeId)}`;

  return {
    registerNode: (nodeId: string, description: { labels: Record<string, string>; casVolume: string; capacityBytes: number }) =>
      call('PUT', `/api/nodes/${encodeURIComponent(nodeId)}`, description),
    heartbeat: (nodeId: string, beat: { workerId: string; activeJobs: number; casBytes?: number }) =>
      call<void>('PUT', `/api/nodes/${encodeURIComponent(nodeId)}/heartbeat`, beat),
    listJobs: async (nodeId: string) => (await call<{ items: AssignedJob[] }>('GET', `/api/nodes/${encodeURIComponent(nodeId)}/jobs`)).items,
    grantLease: (key: JobKey, workerId: string, fencingToken: number) =>
      call('POST', `${job(key)}/lease`, { workerId, fencingToken }, `lease:${key.transferId}:${key.nodeId}:${fencingToken}`),
    reportChunks: (key: JobKey, report: { fencingToken: number; source: ChunkSource; chunkIndexes: number[] }, requestId: string) =>
      call('POST', `${job(key)}/chunks`, report, requestId),
    completeJob: (key: JobKey, fencingToken: number) =>
      call('POST', `${job(key)}/complete`, { fencingToken }, `complete:${key.transferId}:${key.nodeId}:${fencingToken}`),
    failJob: (key: JobKey, fencingToken: number, reason: string) =>
      call('POST', `${job(key)}/fail`, { fencingToken, reason }, `fail:${key.transferId}:${key.nodeId}:${fencingToken}`),
    abandonJob: (key: JobKey, fencingToken: number, reason: string) =>
      call('POST', `${job(key)}/abandon`, { fencingToken, reason }, `abandon:${key.transferId}:${key.nodeId}:${fencingToken}`),
    /** Polled by every node: answered 304 while the transfer's stream has not moved (ETag = its revision). */
    manifest: async (transferId: string): Promise<ManifestView> => {
      const known = manifests.get(transferId);
      const response = await send('GET', `/api/transfers/${transferId}/manifest`, undefined, undefined, known === undefined ? {} : { 'if-none-match': known.etag });
      if (response.status === 304 && known !== undefined) return known.view;
      const view = (await response.json()) as ManifestView;
      const etag = response.headers.get('etag');
      if (etag !== null) manifests.set(transferId, { etag, view });
      return view;
    },
    forgetManifest: (transferId: string): void => void manifests.delete(transferId),
    publishManifest: (transferId: string, layout: { totalBytes: number; pieceLength: number; pieceCount: number; segmentPieces: number; files: Array<{ path: string; length: number; version?: string }> }) =>
      call('POST', `/api/transfers/${transferId}/manifest`, layout, `manifest:${transferId}`),
    publishSegment: (transferId: string, index: number, segment: { info: string; pieceSha256: string[] }) =>
      call('PUT', `/api/transfers/${transferId}/manifest/segments/${index}`, segment, `segment:${transferId}:${index}`),
    completeManifest: (transferId: string, files: Array<{ path: string; length: number; sha256: string }>) =>
      call('POST', `/api/transfers/${transferId}/manifest/complete`, { files }, `manifest-complete:${transferId}`),
    /** The segment's .torrent with this node's private announce URL. */
    segmentTorrent: async (transferId: string, index: number): Promise<Buffer> =>
      Buffer.from(await (await send('GET', `/api/transfers/${transferId}/torrent/${index}`, undefined, undefined)).arrayBuffer()),
  };
}

export type WorkerApi = ReturnType<typeof createWorkerApi>;
