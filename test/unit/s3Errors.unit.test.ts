import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { TorrentEdgeError } from '../../src/errors.ts';
import { fromS3Error } from '../../src/origin/s3Errors.ts';

const answer = (name: string, httpStatusCode: number) => new S3ServiceException({ name, $fault: httpStatusCode >= 500 ? 'server' : 'client', $metadata: { httpStatusCode }, message: name });

const codeOf = (error: unknown): string | undefined => {
  const mapped = fromS3Error(error, 'reading s3://b/k');
  return mapped instanceof TorrentEdgeError ? mapped.code : undefined;
};

describe('fromS3Error', () => {
  const cases: Array<[string, number, string]> = [
    ['NoSuchKey', 404, 'TE_ERR_NOT_FOUND'],
    ['NoSuchBucket', 404, 'TE_ERR_NOT_FOUND'],
    ['NotFound', 404, 'TE_ERR_NOT_FOUND'],
    ['AccessDenied', 403, 'TE_ERR_FORBIDDEN'],
    ['InvalidAccessKeyId', 403, 'TE_ERR_FORBIDDEN'],
    ['PreconditionFailed', 412, 'TE_ERR_MANIFEST_CONFLICT'],
    ['SlowDown', 503, 'TE_ERR_UNAVAILABLE'],
    ['ThrottlingException', 400, 'TE_ERR_UNAVAILABLE'],
    ['InternalError', 500, 'TE_ERR_UNAVAILABLE'],
    ['SomethingNew', 502, 'TE_ERR_UNAVAILABLE'],
    ['TooManyRequests', 429, 'TE_ERR_UNAVAILABLE'],
    ['InvalidBucketName', 400, 'TE_ERR_VALIDATION'],
  ];
  for (const [name, status, code] of cases) {
    it(`maps ${name} (${status}) to ${code}`, () => {
      const mapped = fromS3Error(answer(name, status), 'reading s3://b/k');
      assert.ok(mapped instanceof TorrentEdgeError);
      assert.equal(mapped.code, code);
      assert.match(mapped.message, new RegExp(`^reading s3://b/k: S3 answered ${name} \\(${status}\\)$`));
      assert.deepEqual(mapped.details, { s3Code: name, status });
    });
  }

  it('maps a network failure without an answer to TE_ERR_UNAVAILABLE', () => {
    assert.equal(codeOf(Object.assign(new Error('connect ECONNRESET'), { code: 'ECONNRESET' })), 'TE_ERR_UNAVAILABLE');
    assert.equal(codeOf(Object.assign(new Error('socket timed out'), { name: 'TimeoutError' })), 'TE_ERR_UNAVAILABLE');
  });

  it('maps missing credentials to TE_ERR_FORBIDDEN', () => {
    assert.equal(codeOf(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' })), 'TE_ERR_FORBIDDEN');
  });

  it('passes our own errors and programming errors through unchanged', () => {
    const ours = new TorrentEdgeError('TE_ERR_VALIDATION', 'bad path');
    const bug = new TypeError('x is undefined');
    assert.equal(fromS3Error(ours, 'w'), ours);
    assert.equal(fromS3Error(bug, 'w'), bug);
  });
});
