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

/**
 * The worker's only way to the control plane: the REST api with a node token (workers hold no
 * database credentials). Network failures and 5xx answers are retried with backoff under the same
 * X-Request-ID, so a retry of an append that did land is answered from the idempotency key.
 */
export function createWorkerApi(options: { apiUrl: string; token: string; logger: Logger; attempts?: number }) {
  const attempts = options.attempts ?? 8;

  async function call<T>(method: string, path: string, body?: unknown, requestId?: string): Promise<T> {
    // The job's span (when tracing is on) is the parent of the api's request span.
    const headers: Record<string, string> = { authorization: `Bearer ${options.token}`, ...traceHeadersOf(context.active()) };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (requestId !== undefined) headers['x-request-id'] = requestId;
    for (let attempt = 1; ; attempt++) {
      let response: Response | undefined;
      try {
        response = await fetch(`${options.apiUrl}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      } catch (error) {
        if (attempt >= attempts) throw new Error(`cannot reach the api at ${options.apiUrl}: ${(error as Error).message}`, { cause: error });
      }
      if (response !== undefined) {
        if (response.status === 204) return undefined as T;
        const text = await response.text();
        if (response.ok) return (text === '' ? undefined : JSON.parse(text)) as T;
        if (!retriableStatus.has(response.status) || attempt >= attempts) {
          let code = 'TE_ERR_HTTP';
          let message = text;
          try {
            const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
            code = parsed.error?.code ?? code;
            message = parsed.error?.message ?? message;
          } catch {
            // not our error body
          }
          throw new ApiError(response.status, code, `${method} ${path}: ${response.status} ${code}: ${message}`);
        }
      }
      const backoffMs = Math.min(2000, 50 * 2 ** attempt);
      options.logger.debug({ method, path, attempt, backoffMs }, 'api call failed; retrying');
      await delay(backoffMs);
    }
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
    failJob: (key: JobKey, fencingToken: number, reason: string) => call('POST', `${job(key)}/fail`, { fencingToken, reason }),
    abandonJob: (key: JobKey, fencingToken: number, reason: string) => call('POST', `${job(key)}/abandon`, { fencingToken, reason }),
    manifest: (transferId: string) => call<ManifestView>('GET', `/api/transfers/${transferId}/manifest`),
    publishManifest: (transferId: string, layout: { totalBytes: number; pieceLength: number; pieceCount: number; segmentPieces: number; files: Array<{ path: string; length: number }> }) =>
      call('POST', `/api/transfers/${transferId}/manifest`, layout, `manifest:${transferId}`),
    publishSegment: (transferId: string, index: number, segment: { info: string; pieceSha256: string[] }) =>
      call('PUT', `/api/transfers/${transferId}/manifest/segments/${index}`, segment, `segment:${transferId}:${index}`),
    completeManifest: (transferId: string, files: Array<{ path: string; length: number; sha256: string }>) =>
      call('POST', `/api/transfers/${transferId}/manifest/complete`, { files }, `manifest-complete:${transferId}`),
    /** The segment's .torrent with this node's private announce URL. */
    segmentTorrent: async (transferId: string, index: number): Promise<Buffer> => {
      const response = await fetch(`${options.apiUrl}/api/transfers/${transferId}/torrent/${index}`, { headers: { authorization: `Bearer ${options.token}` } });
      if (!response.ok) throw new ApiError(response.status, 'TE_ERR_HTTP', `GET torrent ${transferId}/${index}: ${response.status} ${await response.text()}`);
      return Buffer.from(await response.arrayBuffer());
    },
  };
}

export type WorkerApi = ReturnType<typeof createWorkerApi>;
