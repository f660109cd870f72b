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
      window = { bytes: cas.readChunk(sha256, start, end - start), generation: this.#generation, length: end - start, ahead: end - offset, served: 0 };
      const added = window;
      added.bytes.catch(() => {
        if (this.#windows.get(key) === added) this.#drop(key, added);
      });
      this.#cachedBytes += added.length;
    } else {
      // Map order is insertion order: re-inserting makes this the most recently used.
      this.#windows.delete(key);
    }
    this.#windows.set(key, window);
    window.served += length;
    this.#evict();
    const bytes = await window.bytes;
    return bytes.subarray(offset - start, offset - start + length);
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
  }
}
