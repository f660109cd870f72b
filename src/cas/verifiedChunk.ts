import { assertSha256Hex, sha256Hex } from './digest.ts';

/** Only this module holds it: a VerifiedChunk cannot be made without its bytes being hashed. */
const checked = Symbol('checked');

/**
 * Bytes whose SHA-256 was computed and matched the expected digest. It lets the check and the
 * write happen at different places without hashing twice: the engine checks a piece when it is
 * assembled (so a bad piece is re-requested and its senders blamed) and the store writes it,
 * and ContentStore.putVerifiedChunk takes nothing else. The bytes must not change in between;
 * webtorrent hands a flushed piece on and never writes to it again.
 */
export class VerifiedChunk {
  readonly sha256: string;
  readonly bytes: Uint8Array;

  private constructor(token: typeof checked, sha256: string, bytes: Uint8Array) {
    if (token !== checked) throw new TypeError('a VerifiedChunk comes only from VerifiedChunk.check or VerifiedChunk.of');
    this.sha256 = sha256;
    this.bytes = bytes;
  }

  /** The chunk if `bytes` hash to `sha256`; otherwise the digest they have. */
  static check(sha256: string, bytes: Uint8Array): { chunk: VerifiedChunk } | { actual: string } {
    assertSha256Hex(sha256);
    const actual = sha256Hex(bytes);
    return actual === sha256 ? { chunk: new VerifiedChunk(checked, sha256, bytes) } : { actual };
  }

  /**
   * The chunk of `bytes` under the digest they hash to. For bytes that are their own reference,
   * such as the origin's, which the seed names by their hash: nothing to check them against.
   */
  static of(bytes: Uint8Array): VerifiedChunk {
    return new VerifiedChunk(checked, sha256Hex(bytes), bytes);
  }
}
