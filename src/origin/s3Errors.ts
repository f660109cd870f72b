import { S3ServiceException } from '@aws-sdk/client-s3';
import { TorrentEdgeError, type ErrorCode } from '../errors.ts';

const notFound = new Set(['NoSuchKey', 'NoSuchBucket', 'NoSuchVersion', 'NotFound']);
const forbidden = new Set(['AccessDenied', 'Forbidden', 'AllAccessDisabled', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'AccountProblem']);
const unavailable = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'RequestTimeout', 'RequestTimeoutException', 'InternalError', 'ServiceUnavailable', 'TimeoutError']);

function codeOf(name: string, status: number | undefined): ErrorCode {
  if (notFound.has(name) || status === 404) return 'TE_ERR_NOT_FOUND';
  if (forbidden.has(name) || status === 403 || status === 401) return 'TE_ERR_FORBIDDEN';
  // If-Match failed: the object is no longer the one the manifest describes; a retry cannot help.
  if (name === 'PreconditionFailed' || status === 412) return 'TE_ERR_MANIFEST_CONFLICT';
  if (unavailable.has(name) || status === undefined || status === 429 || status >= 500) return 'TE_ERR_UNAVAILABLE';
  return 'TE_ERR_VALIDATION';
}

/**
 * Translates what the AWS SDK throws (after its own retries) into our codes. A service answer
 * carries its S3 code and status; a failure without an answer is a network error (a Node system
 * error such as ECONNREFUSED, or a timeout). Anything else is not the origin's fault and passes
 * through unchanged.
 */
export function fromS3Error(error: unknown, what: string): Error {
  if (!(error instanceof Error)) return new Error(`${what}: ${String(error)}`);
  if (error instanceof TorrentEdgeError) return error;
  if (error instanceof S3ServiceException) {
    const status = error.$metadata.httpStatusCode;
    return new TorrentEdgeError(codeOf(error.name, status), `${what}: S3 answered ${error.name}${status !== undefined ? ` (${status})` : ''}`, { s3Code: error.name, status });
  }
  if (error.name === 'CredentialsProviderError') return new TorrentEdgeError('TE_ERR_FORBIDDEN', `${what}: no AWS credentials: ${error.message}`);
  const systemCode = (error as { code?: unknown }).code;
  if ((typeof systemCode === 'string' && /^E[A-Z_]+$/.test(systemCode)) || unavailable.has(error.name)) {
    return new TorrentEdgeError('TE_ERR_UNAVAILABLE', `${what}: ${error.message}`, { cause: typeof systemCode === 'string' ? systemCode : error.name });
  }
  return error;
}
