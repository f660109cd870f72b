import { mkdir, open, realpath, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createTempFile, discardTempFile, fsyncDirectory, publishTempFile, removeStaleTempFiles } from './atomicWrite.ts';
import { ChunkDigestMismatchError, ChunkNotFoundError } from './casErrors.ts';
import { casLayout, chunkPath, fanOutNames, objectPath, type CasLayout } from './casLayout.ts';
import type { CasMetrics, CasStats } from './casMetrics.ts';
import { assertSha256Hex } from './digest.ts';
import { fileSize, touch } from './fileStats.ts';
import { garbageCollect, type GarbageCollectOptions, type GarbageCollectResult } from './garbageCollect.ts';
import { HeldChunks, loadChunkMaps, removeChunkMap, writeChunkMap, type HeldChunk } from './heldChunks.ts';
import { materialize, type MaterializeRequest, type MaterializedFile } from './materialize.ts';
import { readPin, removePin, writePin, type PinRefs } from './pins.ts';
import { fenceOf, raiseFence } from './fences.ts';
import { openChunk, readExactly } from './readRange.ts';
import { VerifiedChunk } from './verifiedChunk.ts';

export type PutChunkOutcome = 'stored' | 'present';

export interface ContentStoreOptions {
  metrics?: CasMetrics;
}

/** A chunk opened for reading: its bytes are [start, start + size) of the file behind `handle`. */
export interface OpenedChunk {
  handle: FileHandle;
  start: number;
  size: number;
}

/**
 * Verified chunks under chunks/<aa>/<sha256>, whole files under objects/<aa>/<sha256>. Nothing
 * enters without its SHA-256 being checked, and nothing is visible before it is complete.
 * A chunk may also be held inside a larger file instead (heldChunks.ts): a published object, or
 * a file of an artifact being downloaded under partial/. One process owns a root at a time;
 * open() is its crash recovery (stale tmp files go; the objects' chunk maps are read).
 */
export class ContentStore {
  readonly root: string;
  readonly layout: CasLayout;
  readonly #metrics: CasMetrics | undefined;
  readonly #stats: CasStats = { chunksStored: 0, storedBytes: 0, dedupBytes: 0, verifyFailures: 0, gcRemovedBytes: 0 };
  /** Concurrent puts of one digest write it once; the others report 'present'. */
  readonly #inFlight = new Map<string, Promise<PutChunkOutcome>>();
  readonly #held = new HeldChunks();
  /** Keys of partial/ that jobs in this process are writing (objectBuilders.ts): garbage collection spares them. */
  readonly #partialsInUse = new Set<string>();

  private constructor(root: string, metrics: CasMetrics | undefined) {
    this.root = root;
    this.layout = casLayout(root);
    this.#metrics = metrics;
  }

  static async open(root: string, options: ContentStoreOptions = {}): Promise<ContentStore> {
    await mkdir(root, { recursive: true });
    const store = new ContentStore(await realpath(root), options.metrics);
    const { layout } = store;
    for (const directory of [layout.chunks, layout.objects, layout.tmp, layout.pins, layout.partial]) await mkdir(directory, { recursive: true });
    // Fan-out directories exist up front, so publishing a file never has to make (and fsync) one.
    for (const top of [layout.chunks, layout.objects]) {
      for (const name of fanOutNames) await mkdir(join(top, name), { recursive: true });
      await fsyncDirectory(top);
    }
    await fsyncDirectory(layout.root);
    await removeStaleTempFiles(layout.tmp);
    await loadChunkMaps(layout, store.#held);
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
    const held = this.#held.locate(sha256);
    const heldIn = held === undefined ? undefined : await fileSize(held.path);
    const size = held !== undefined && heldIn !== undefined && heldIn >= held.offset + held.length ? held.length : await fileSize(chunkPath(this.layout, sha256));
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
    // Bytes held in a file that were found damaged are not read from there again, after a restart either.
    if (options.replace === true) await this.#forgetHeld(sha256);
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

  async #forgetHeld(sha256: string): Promise<void> {
    for (const path of this.#held.forget(sha256)) {
      const object = /\/objects\/[0-9a-f]{2}\/([0-9a-f]{64})$/.exec(path)?.[1];
      if (object === undefined) continue;
      const left = this.#held.heldBy(path);
      await (left.length > 0 ? writeChunkMap(this.layout, object, left) : removeChunkMap(this.layout, object));
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
    this.countStored(bytes.byteLength);
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
    const { handle, start, size } = await this.openChunk(sha256).catch((error: unknown) => {
      if (error instanceof ChunkNotFoundError) this.#metrics?.misses.inc();
      throw error;
    });
    try {
      const wanted = length ?? size - offset;
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(wanted) || offset < 0 || wanted < 0 || offset + wanted > size) {
        throw new RangeError(`range [${offset}, ${offset}+${wanted}) is outside chunk ${sha256} of ${size} bytes`);
      }
      if (into !== undefined && into.byteLength !== wanted) throw new RangeError(`into has ${into.byteLength} bytes for a read of ${wanted}`);
      const bytes = await readExactly(handle, start + offset, wanted, `chunk ${sha256}`, into);
      this.#metrics?.hits.inc();
      return bytes;
    } finally {
      await handle.close();
    }
  }

  /**
   * The chunk's file, open for reading, and where in it the chunk is: a chunk held inside a file
   * is read from there (it was verified when it was held), any other from chunks/<sha256>. The
   * caller closes the handle.
   */
  async openChunk(sha256: string): Promise<OpenedChunk> {
    assertSha256Hex(sha256);
    // A file that holds it may be published or discarded meanwhile: its chunks are then found
    // under the new name, or no longer held, by the time its old name is gone.
    for (let held = this.#held.locate(sha256), tried = new Set<string>(); held !== undefined && !tried.has(held.path); held = this.#held.locate(sha256)) {
      tried.add(held.path);
      const handle = await open(held.path, 'r').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
      if (handle !== undefined) return { handle, start: held.offset, size: held.length };
    }
    const handle = await openChunk(this.layout, sha256);
    try {
      return { handle, start: 0, size: (await handle.stat()).size };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /**
   * The file at `path` holds these verified chunks, at these offsets, from now on. Only for files
   * this store writes (objectBuilder.ts): under partial/ while downloading, then under objects/.
   */
  holdChunks(path: string, chunks: readonly HeldChunk[]): void {
    for (const chunk of chunks) this.#held.hold(path, chunk);
  }

  /** The chunks `path` holds. */
  heldBy(path: string): HeldChunk[] {
    return this.#held.heldBy(path);
  }

  /** `path` no longer holds this chunk. */
  releaseHeldChunk(path: string, sha256: string): void {
    this.#held.releaseChunk(path, sha256);
  }

  /** `path` goes: its chunks are no longer found there. */
  releaseHeld(path: string): void {
    this.#held.release(path);
  }

  /** The file at `from` was published as `to`: its chunks are found there. */
  moveHeld(from: string, to: string): void {
    this.#held.move(from, to);
  }

  /** A job of this process writes under partial/<key> until it lets go of it: garbage collection leaves it alone. */
  claimPartial(key: string): void {
    this.#partialsInUse.add(key);
  }

  letGoOfPartial(key: string): void {
    this.#partialsInUse.delete(key);
  }

  partialsInUse(): ReadonlySet<string> {
    return this.#partialsInUse;
  }

  /** Counts a chunk stored inside a file as stored, as putVerifiedChunk counts one of its own. */
  countStored(bytes: number): void {
    this.#stats.chunksStored++;
    this.#stats.storedBytes += bytes;
    this.#metrics?.chunksStored.inc();
    this.#metrics?.storedBytes.inc(bytes);
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
    const result = await garbageCollect(this.layout, options, {
      objectsHolding: (chunks) => {
        const objects = new Set<string>();
        for (const chunk of chunks) {
          const held = this.#held.locate(chunk);
          if (held !== undefined) objects.add(held.path);
        }
        return objects;
      },
      onObjectRemoved: async (path, sha256) => {
        this.#held.release(path);
        await removeChunkMap(this.layout, sha256);
      },
      partialsInUse: () => this.#partialsInUse,
    });
    const removedBytes = [...result.removed, ...result.removedPartials].reduce((sum, entry) => sum + entry.bytes, 0);
    this.#stats.gcRemovedBytes += removedBytes;
    this.#metrics?.gcRemovedBytes.inc(removedBytes);
    return result;
  }
}
