import { createHash } from 'node:crypto';

const sha256Pattern = /^[0-9a-f]{64}$/;

/**
 * Digests become file names under the store, so anything but 64 lower-case hex characters is
 * refused before it reaches a path: a "digest" of "../x" must never name a file.
 */
export function assertSha256Hex(value: unknown, what = 'sha256'): asserts value is string {
  if (typeof value !== 'string' || !sha256Pattern.test(value)) {
    throw new TypeError(`${what} must be 64 lower-case hex characters, got ${JSON.stringify(value)}`);
  }
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** BitTorrent's digest, of a piece or a block: for peer bans and webtorrent's own check, never for storage. */
export function sha1Hex(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('hex');
}
