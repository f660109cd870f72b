import { ChunkReadCache } from './chunkReadCache.ts';
import { ChunkDigestMismatchError } from './casErrors.ts';
import { ContentStore, type PutChunkOutcome } from './contentStore.ts';
import { assertSha256Hex } from './digest.ts';
import type { VerifiedChunk } from './verifiedChunk.ts';

export interface CasChunkStoreOptions {
  cas: ContentStore;
  /** This segment's pieces, in order: webtorrent piece i is pieceSha256[i]. */
  pieceSha256: readonly string[];
  /** Called after piece `index` was verified and stored (or found already present). */
  onStored?: (index: number, outcome: PutChunkOutcome) => void;
  /** Told of each put's bytes when it starts and when it settles (e.g. to apply backpressure). */
  pendingWrites?: { started(bytes: number): void; finished(bytes: number): void };
  /** Read-ahead for serving blocks, shared by the stores of one engine; each store has its own small one otherwise. */
  readCache?: ChunkReadCache;
  /** The segment's length in bytes (webtorrent passes it): with it, the short last piece is read ahead too. */
  length?: number;
  /** Pieces it has already checked are stored without hashing them again. */
  verifier?: PieceVerifier;
  /**
   * Stores a piece instead of ContentStore.putVerifiedChunk: a download's object builders write it
   * into the artifact's file, where it is held (objectBuilders.ts). Given the segment's index.
   */
  storePiece?: (index: number, chunk: VerifiedChunk) => Promise<PutChunkOutcome>;
  /** Given each piece's buffer once it is stored: the store holds it no longer (e.g. a pool takes it back). */
  onWritten?: (buf: Uint8Array) => void;
  /**
   * Whether get's callback is done with the bytes when it returns (it copies them), so the
   * read-ahead window they came from may be read into again. True only for the engine's wires,
   * which copy each block into a batch for the socket (coalesceWireWrites.ts); a stock wire keeps
   * the bytes queued for its socket.
   */
  callbackCopiesReads?: boolean;
  /** webtorrent adds its own keys (torrent, files, path, name…); they are ignored. */
  [webtorrentKey: string]: unknown;
}

export interface ChunkGetOptions {
  offset?: number;
  length?: number;
}

type Callback<T = void> = (error: Error | null, value?: T) => void;

/**
 * An abstract-chunk-store over the content store, bound to one segment torrent. Pieces are
 * found by their SHA-256, never by the torrent's file names, so no name from a torrent becomes a
 * path. put verifies SHA-256, unless the segment's PieceVerifier did when the piece was assembled;
 * destroy keeps the content, which is shared by every transfer on the node.
 */
export class CasChunkStore {
  readonly chunkLength: number;
  readonly #cas: ContentStore;
  readonly #pieces: readonly string[];
  readonly #onStored: CasChunkStoreOptions['onStored'];
  readonly #readCache: ChunkReadCache;
  readonly #pendingWrites: CasChunkStoreOptions['pendingWrites'];
  readonly #lastPieceLength: number | undefined;
  readonly #verifier: PieceVerifier | undefined;
  readonly #onWritten: CasChunkStoreOptions['onWritten'];
  readonly #storePiece: CasChunkStoreOptions['storePiece'];
  readonly #callbackCopiesReads: boolean;
  #closed = false;

  constructor(chunkLength: number, opts: CasChunkStoreOptions) {
    if (!Number.isSafeInteger(chunkLength) || chunkLength < 1) throw new RangeError(`chunkLength must be a positive integer, got ${chunkLength}`);
    if (!(opts.cas instanceof ContentStore)) throw new TypeError('CasChunkStore needs opts.cas, a ContentStore');
    opts.pieceSha256.forEach((digest, index) => assertSha256Hex(digest, `pieceSha256[${index}]`));
    this.chunkLength = chunkLength;
    this.#cas = opts.cas;
    this.#pieces = [...opts.pieceSha256];
    this.#onStored = opts.onStored;
    this.#pendingWrites = opts.pendingWrites;
    this.#verifier = opts.verifier;
    this.#onWritten = opts.onWritten;
    this.#storePiece = opts.storePiece;
    this.#callbackCopiesReads = opts.callbackCopiesReads === true;
    this.#readCache = opts.readCache ?? new ChunkReadCache({ maxBytes: 4 * 1024 * 1024 });
    const length = opts.length;
    const expected = (this.#pieces.length - 1) * chunkLength;
    this.#lastPieceLength = typeof length === 'number' && length > expected && length <= expected + chunkLength ? length - expected : undefined;
  }

  put(index: number, buf: Uint8Array, cb: Callback = noop): void {
    const digest = this.#digestOf(index, cb);
    if (digest === undefined) return;
    const last = index === this.#pieces.length - 1;
    if (last ? buf.length < 1 || buf.length > this.chunkLength : buf.length !== this.chunkLength) {
      return defer(cb, new RangeError(`piece ${index} has ${buf.length} bytes; pieces are ${this.chunkLength} bytes${last ? ' at most' : ''}`));
    }
    const bytes = buf.length;
    this.#pendingWrites?.started(bytes);
    const taken = this.#verifier?.take(buf);
    const verified = taken?.sha256 === digest ? taken : undefined;
    const stored = this.#storePiece === undefined ? (verified === undefined ? this.#cas.putChunk(digest, buf) : this.#cas.putVerifiedChunk(verified)) : this.#storeChecked(index, digest, buf, verified);
    settle(stored, (error, outcome) => {
      // webtorrent waits for cb whatever onStored does; an exception in onStored still surfaces.
      try {
        if (error === null && outcome !== undefined) this.#onStored?.(index, outcome);
        if (error === null) this.#onWritten?.(buf);
      } finally {
        this.#pendingWrites?.finished(bytes);
        cb(error);
      }
    });
  }

  async #storeChecked(index: number, digest: string, buf: Uint8Array, verified: VerifiedChunk | undefined): Promise<PutChunkOutcome> {
    return this.#storePiece!(index, verified ?? this.#cas.verifyChunk(digest, buf));
  }

  get(index: number, opts: ChunkGetOptions | null | undefined | Callback<Buffer>, cb: Callback<Buffer> = noop): void {
    if (typeof opts === 'function') return this.get(index, null, opts);
    const digest = this.#digestOf(index, cb);
    if (digest === undefined) return;
    const pieceLength = index === this.#pieces.length - 1 ? this.#lastPieceLength : this.chunkLength;
    const offset = opts?.offset ?? 0;
    if (pieceLength === undefined) return settle(this.#cas.readChunk(digest, offset, opts?.length ?? undefined), cb);
    settle(this.#readCache.read(this.#cas, digest, pieceLength, offset, opts?.length ?? pieceLength - offset), (error, bytes) => {
      cb(error, bytes);
      // webtorrent has copied the block into the wire's batch by now (coalesceWireWrites.ts), so
      // the window it came from may be read into again.
      if (bytes !== undefined && this.#callbackCopiesReads) this.#readCache.done(bytes);
    });
  }

  close(cb: Callback = noop): void {
    this.#closed = true;
    defer(cb, null);
  }

  /** The same as close: chunks belong to the content store, not to this torrent. */
  destroy(cb: Callback = noop): void {
    this.close(cb);
  }

  #digestOf(index: number, cb: Callback<never>): string | undefined {
    if (this.#closed) return void defer(cb, new Error('CasChunkStore is closed'));
    const digest = Number.isInteger(index) ? this.#pieces[index] : undefined;
    if (digest === undefined) return void defer(cb, new RangeError(`piece ${index} is not in this segment of ${this.#pieces.length} pieces`));
    return digest;
  }
}

function noop(): void {}

/** Callbacks run outside the promise chain, so an exception in one is not swallowed as a rejection. */
function settle<T>(promise: Promise<T>, cb: Callback<T>): void {
  promise.then(
    (value) => process.nextTick(cb, null, value),
    (error: unknown) => process.nextTick(cb, error instanceof Error ? error : new Error(String(error))),
  );
}

function defer(cb: Callback<never>, error: Error | null): void {
  process.nextTick(cb, error);
}

/**
 * webtorrent's verifyPiece for one segment (see patches/): an assembled piece is checked against
 * the manifest's SHA-256 instead of the torrent's SHA-1, so a piece is hashed once, not twice
 * (SHA-1 cost the leecher of bench pair 0.85 CPU s per GiB). A piece that fails goes webtorrent's
 * way for a failed piece: dropped, asked for again, its senders blamed. One that passes is
 * handed to the segment's CasChunkStore.put by its buffer.
 */
export class PieceVerifier {
  readonly #cas: ContentStore;
  readonly #pieces: readonly string[];
  readonly #checked = new WeakMap<Uint8Array, VerifiedChunk>();

  constructor(cas: ContentStore, pieceSha256: readonly string[]) {
    this.#cas = cas;
    this.#pieces = pieceSha256;
  }

  /**
   * Whether piece `index` has these bytes, and the mismatch when they have not (none for an index
   * the segment does not have). Throws nothing else: webtorrent awaits it in a callback.
   */
  verify(index: number, buf: Uint8Array): { ok: true } | { ok: false; mismatch?: ChunkDigestMismatchError } {
    const digest = this.#pieces[index];
    if (digest === undefined) return { ok: false };
    try {
      this.#checked.set(buf, this.#cas.verifyChunk(digest, buf));
      return { ok: true };
    } catch (error) {
      if (error instanceof ChunkDigestMismatchError) return { ok: false, mismatch: error };
      throw error;
    }
  }

  /** The checked chunk for these bytes, once. */
  take(buf: Uint8Array): VerifiedChunk | undefined {
    const chunk = this.#checked.get(buf);
    this.#checked.delete(buf);
    return chunk;
  }
}
