import { mkdir, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createTempFile, discardTempFile, fsyncDirectory, publishTempFile, removeStaleTempFiles } from './atomicWrite.ts';
import { ChunkDigestMismatchError, ChunkNotFoundError } from './casErrors.ts';
import { casLayout, chunkPath, fanOutNames, objectPath, type CasLayout } from './casLayout.ts';
import type { CasMetrics, CasStats } from './casMetrics.ts';
import { assertSha256Hex } from './digest.ts';
import { fileSize, touch } from './fileStats.ts';
import { garbageCollect, type GarbageCollectOptions, type GarbageCollectResult } from './garbageCollect.ts';
import { materialize, type MaterializeRequest, type MaterializedFile } from './materialize.ts';
import { readPin, removePin, writePin, type PinRefs } from './pins.ts';
import { fenceOf, raiseFence } from './fences.ts';
import { openChunk, readExactly } from './readRange.ts';
import { VerifiedChunk } from './verifiedChunk.ts';

export type PutChunkOutcome = 'stored' | 'present';

export interface ContentStoreOptions {
  metrics?: CasMetrics;
}

/**
 * Verified chunks under chunks/<aa>/<sha256>, whole files under objects/<aa>/<sha256>. Nothing
 * enters without its SHA-256 being checked, and nothing is visible before it is complete.
 * One process owns a root at a time; open() is its crash recovery (stale tmp files go).
 */
export class ContentStore {
  readonly root: string;
  readonly layout: CasLayout;
  readonly #metrics: CasMetrics | undefined;
  readonly #stats: CasStats = { chunksStored: 0, storedBytes: 0, dedupBytes: 0, verifyFailures: 0, gcRemovedBytes: 0 };
  /** Concurrent puts of one digest write it once; the others report 'present'. */
  readonly #inFlight = new Map<string, Promise<PutChunkOutcome>>();

  private constructor(root: string, metrics: CasMetrics | undefined) {
    this.root = root;
    this.layout = casLayout(root);
    this.#metrics = metrics;
  }

  static async open(root: string, options: ContentStoreOptions = {}): Promise<ContentStore> {
    await mkdir(root, { recursive: true });
    const store = new ContentStore(await realpath(root), options.metrics);
    const { layout } = store;
    for (const directory of [layout.chunks, layout.objects, layout.tmp, layout.pins]) await mkdir(directory, { recursive: true });
    // Fan-out directories exist up front, so publishing a file never has to make (and fsync) one.
    for (const top of [layout.chunks, layout.objects]) {
      for (const name of fanOutNames) await mkdir(join(top, name), { recursive: true });
      await fsyncDirectory(top);
    }
    await fsyncDirectory(layout.root);
    await removeStaleTempFiles(layout.tmp);
    return store;
  }

  stats(): CasStats {
    return { ...this.#stats };
  }

  /** Counted as a verify failure of `kind`; used by materialize too. */
  countVerifyFailure(kind: 'chunk' | 'object'): void {
    this.#stats.verifyFailures++;
    this.#metrics?.verifyFailures.inc({ kind });
  }

  async hasChunk(sha256: string): Promise<boolean> {
    return (await this.chunkSize(sha256)) !== undefined;
  }

  /** The chunk's length in bytes, or undefined when the store does not hold it. */
  async chunkSize(sha256: string): Promise<number | undefined> {
    assertSha256Hex(sha256);
    const size = await fileSize(chunkPath(this.layout, sha256));
    (size === undefined ? this.#metrics?.misses : this.#metrics?.hits)?.inc();
    return size;
  }

  async hasObject(sha256: string): Promise<boolean> {
    assertSha256Hex(sha256);
    return (await fileSize(objectPath(this.layout, sha256))) !== undefined;
  }

  objectPath(sha256: string): string {
    assertSha256Hex(sha256);
    return objectPath(this.layout, sha256);
  }

  /** Verifies `bytes` against `sha256` before anything touches the disk; a mismatch stores nothing. */
  async putChunk(sha256: string, bytes: Uint8Array): Promise<PutChunkOutcome> {
    return this.putVerifiedChunk(this.verifyChunk(sha256, bytes));
  }

  /** Hashes `bytes`: the chunk to store, or a ChunkDigestMismatchError (counted as a verify failure). */
  verifyChunk(sha256: string, bytes: Uint8Array): VerifiedChunk {
    const verified = VerifiedChunk.check(sha256, bytes);
    if ('chunk' in verified) return verified.chunk;
    this.countVerifyFailure('chunk');
    throw new ChunkDigestMismatchError(sha256, verified.actual);
  }

  /**
   * Stores a chunk whose digest was checked by verifyChunk (or VerifiedChunk.check), without hashing
   * it again. A chunk already stored is kept, unless `replace` says the file is known damaged.
   */
  async putVerifiedChunk(chunk: VerifiedChunk, options: { replace?: boolean } = {}): Promise<PutChunkOutcome> {
    if (!(chunk instanceof VerifiedChunk)) throw new TypeError('putVerifiedChunk takes a VerifiedChunk');
    const { sha256, bytes } = chunk;
    const pending = this.#inFlight.get(sha256);
    if (pending !== undefined) {
      await pending;
      this.#countDedup(bytes.byteLength);
      return 'present';
    }
    const writing = this.#writeChunk(sha256, bytes, options.replace === true);
    this.#inFlight.set(sha256, writing);
    try {
      return await writing;
    } finally {
      this.#inFlight.delete(sha256);
    }
  }

  async #writeChunk(sha256: string, bytes: Uint8Array, replace: boolean): Promise<PutChunkOutcome> {
    const target = chunkPath(this.layout, sha256);
    if (!replace && (await fileSize(target)) !== undefined) {
      await touch(target);
      this.#countDedup(bytes.byteLength);
      return 'present';
    }
    const temp = await createTempFile(this.layout.tmp);
    try {
      await temp.handle.writeFile(bytes);
    } catch (error) {
      await discardTempFile(temp);
      throw error;
    }
    await publishTempFile(temp, target, dirname(target));
    this.#stats.chunksStored++;
    this.#stats.storedBytes += bytes.byteLength;
    this.#metrics?.chunksStored.inc();
    this.#metrics?.storedBytes.inc(bytes.byteLength);
    return 'stored';
  }

  #countDedup(bytes: number): void {
    this.#stats.dedupBytes += bytes;
    this.#metrics?.dedupBytes.inc(bytes);
  }

  /**
   * Bytes [offset, offset + length) of a chunk; length defaults to the rest of it. With `into`
   * (of exactly `length` bytes), they are read into it, and the result is a Buffer over it.
   */
  async readChunk(sha256: string, offset = 0, length?: number, into?: Uint8Array): Promise<Buffer> {
    assertSha256Hex(sha256);
    const handle = await openChunk(this.layout, sha256).catch((error: unknown) => {
      if (error instanceof ChunkNotFoundError) this.#metrics?.misses.inc();
      throw error;
    });
    try {
      const { size } = await handle.stat();
      const wanted = length ?? size - offset;
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(wanted) || offset < 0 || wanted < 0 || offset + wanted > size) {
        throw new RangeError(`range [${offset}, ${offset}+${wanted}) is outside chunk ${sha256} of ${size} bytes`);
      }
      if (into !== undefined && into.byteLength !== wanted) throw new RangeError(`into has ${into.byteLength} bytes for a read of ${wanted}`);
      const bytes = await readExactly(handle, offset, wanted, `chunk ${sha256}`, into);
      this.#metrics?.hits.inc();
      return bytes;
    } finally {
      await handle.close();
    }
  }

  async materialize(request: MaterializeRequest): Promise<MaterializedFile[]> {
    return materialize(this, request);
  }

  /** Records that a lease with this token was granted for `resource`; refuses a token below the highest seen. */
  async raiseFence(resource: string, fencingToken: number): Promise<void> {
    await raiseFence(this.root, resource, fencingToken);
  }

  /** The highest fencing token this CAS has seen for `resource` (0 for none): a new lease must go above it. */
  fenceOf(resource: string): Promise<number> {
    return fenceOf(this.root, resource);
  }

  /** Replaces the pin `name`; links recorded by materialize under the same name are kept. */
  async pin(name: string, refs: PinRefs): Promise<void> {
    const links = (await readPin(this.layout, name))?.links ?? [];
    await writePin(this.layout, { name, chunks: [...refs.chunks], objects: [...refs.objects], links });
  }

  async unpin(name: string): Promise<boolean> {
    return removePin(this.layout, name);
  }

  async garbageCollect(options: GarbageCollectOptions): Promise<GarbageCollectResult> {
    const result = await garbageCollect(this.layout, options);
    const removedBytes = result.removed.reduce((sum, entry) => sum + entry.bytes, 0);
    this.#stats.gcRemovedBytes += removedBytes;
    this.#metrics?.gcRemovedBytes.inc(removedBytes);
    return result;
  }
}
