import { createBufferPool, type BufferPool } from './bufferPool.ts';
import type { ContentStore } from './contentStore.ts';

export interface ChunkReadCacheOptions {
  /** The largest read-ahead: a window is this many bytes of a chunk, aligned to its size. */
  maxWindowBytes?: number;
  /** Bytes of windows kept (least recently used go first). */
  maxBytes?: number;
}

/** webtorrent's block: below it there is nothing to read ahead. */
const minWindowBytes = 16 * 1024;
/** Reads without read-ahead before it is tried again: the readers may have become fewer. */
const probeAfterReads = 64;

interface Window {
  bytes: Promise<Buffer>;
  /** The window size in use when it was read: one from before the last change says nothing of the current size. */
  generation: number;
  length: number;
  /** Bytes from the first one asked for to the window's end: what read-ahead could serve. */
  ahead: number;
  /** Bytes served from it: how much of the read-ahead was used, once it is evicted. */
  served: number;
  /** Reads served from it whose bytes are not yet handed back with done(). */
  users: number;
  evicted: boolean;
  /** Its bytes once read, until they go back to the pool. */
  buffer: Buffer | undefined;
}

/**
 * Read-ahead for serving peers. webtorrent asks the store for one 16 KiB block per request, and
 * one ContentStore.readChunk per block (open, fstat, pread, close) cost the seeder about 6 CPU
 * seconds per GiB served (bench pair, 1 GiB: 65,536 reads). Blocks are served from aligned
 * windows instead: one read per window, concurrent requests for a window share it. Chunks are
 * content-addressed and never change, so a window is never stale.
 *
 * A window evicted with half of it or less served means more readers than the budget holds (many
 * peers fetching different pieces): windows then halve, down to plain block reads, so read-ahead
 * does not multiply the bytes read; they double again while windows are used up (and, from plain
 * reads, every 64 reads to try).
 */
export class ChunkReadCache {
  readonly maxWindowBytes: number;
  readonly maxBytes: number;
  #windowBytes: number;
  #cachedBytes = 0;
  #readsSinceProbe = 0;
  #generation = 0;
  readonly #windows = new Map<string, Window>();
  /** Windows read, by their bytes' ArrayBuffer: what done() finds a view's window by. */
  readonly #byBuffer = new Map<ArrayBufferLike, Window>();
  /** Window buffers are reused once evicted and handed back by every reader (see done). */
  readonly #buffers: ReturnType<typeof createBufferPool>;

  constructor(options: ChunkReadCacheOptions = {}) {
    this.maxWindowBytes = options.maxWindowBytes ?? 1024 * 1024;
    this.maxBytes = options.maxBytes ?? 32 * 1024 * 1024;
    // A power of two, so that a halved window still lines up with 16 KiB blocks.
    if (!Number.isSafeInteger(this.maxWindowBytes) || this.maxWindowBytes < minWindowBytes || (this.maxWindowBytes & (this.maxWindowBytes - 1)) !== 0) {
      throw new RangeError(`maxWindowBytes must be a power of two of at least ${minWindowBytes}, got ${this.maxWindowBytes}`);
    }
    if (!Number.isSafeInteger(this.maxBytes) || this.maxBytes < this.maxWindowBytes) {
      throw new RangeError(`maxBytes must be an integer of at least maxWindowBytes, got ${this.maxBytes}`);
    }
    this.#windowBytes = this.maxWindowBytes;
    this.#buffers = createBufferPool({ maxIdleBytes: Math.min(this.maxBytes, 8 * 1024 * 1024), smallestKept: minWindowBytes });
  }

  /** Window buffers taken, of those how many were reused, how many came back and how many were freed, and bytes idle now. */
  stats(): ReturnType<BufferPool['stats']> {
    return this.#buffers.stats();
  }

  /** The read-ahead in use now (it adapts between 16 KiB and maxWindowBytes). */
  get windowBytes(): number {
    return this.#windowBytes;
  }

  /**
   * Bytes [offset, offset + length) of a chunk of `chunkLength` bytes. A range that is not
   * inside one window of the chunk is read directly (ContentStore checks it).
   */
  async read(cas: ContentStore, sha256: string, chunkLength: number, offset: number, length: number): Promise<Buffer> {
    if (this.#windowBytes === minWindowBytes && ++this.#readsSinceProbe >= probeAfterReads) {
      this.#readsSinceProbe = 0;
      this.#resize(2 * minWindowBytes);
    }
    const size = this.#windowBytes;
    const start = offset - (offset % size);
    const end = Math.min(chunkLength, start + size);
    if (size <= length || !Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > end) {
      return cas.readChunk(sha256, offset, length);
    }
    const key = `${sha256}:${start}:${size}`;
    let window = this.#windows.get(key);
    if (window === undefined) {
      const length = end - start;
      const added: Window = {
        bytes: cas.readChunk(sha256, start, length, this.#buffers.take(length)),
        generation: this.#generation,
        length,
        ahead: end - offset,
        served: 0,
        users: 0,
        evicted: false,
        buffer: undefined,
      };
      window = added;
      added.bytes.then(
        (bytes) => {
          added.buffer = bytes;
          this.#byBuffer.set(bytes.buffer, added);
        },
        () => {
          if (this.#windows.get(key) === added) this.#drop(key, added);
        },
      );
      this.#cachedBytes += added.length;
    } else {
      // Map order is insertion order: re-inserting makes this the most recently used.
      this.#windows.delete(key);
    }
    this.#windows.set(key, window);
    window.served += length;
    window.users++;
    this.#evict();
    try {
      const bytes = await window.bytes;
      return bytes.subarray(offset - start, offset - start + length);
    } catch (error) {
      window.users--;
      throw error;
    }
  }

  /**
   * Hands back bytes read(): the caller holds no view of them any more. A window evicted and handed
   * back by every reader is read into again, so done() must come only when nothing will read those
   * bytes again (CasChunkStore calls it once webtorrent has copied a block into its batch for the
   * socket: coalesceWireWrites.ts). Bytes never handed back are simply left to the collector.
   */
  done(bytes: Uint8Array): void {
    const window = this.#byBuffer.get(bytes.buffer);
    if (window === undefined || window.users === 0) return;
    window.users--;
    this.#release(window);
  }

  /** Back to the pool once evicted and handed back by all. */
  #release(window: Window): void {
    if (!window.evicted || window.users > 0 || window.buffer === undefined) return;
    this.#byBuffer.delete(window.buffer.buffer);
    this.#buffers.give(window.buffer);
    window.buffer = undefined;
  }

  #evict(): void {
    for (const [key, window] of this.#windows) {
      if (this.#cachedBytes <= this.maxBytes) return;
      this.#drop(key, window);
      if (window.generation !== this.#generation) continue;
      const used = window.served / window.ahead;
      if (used <= 0.5) this.#resize(this.#windowBytes / 2);
      else if (used >= 0.75) this.#resize(this.#windowBytes * 2);
    }
  }

  #resize(windowBytes: number): void {
    const clamped = Math.min(this.maxWindowBytes, Math.max(minWindowBytes, windowBytes));
    if (clamped === this.#windowBytes) return;
    this.#windowBytes = clamped;
    this.#generation++;
  }

  #drop(key: string, window: Window): void {
    this.#windows.delete(key);
    this.#cachedBytes -= window.length;
    window.evicted = true;
    this.#release(window);
  }
}
