import { createHash, type Hash } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { createTempFile, discardTempFile, openKeptFile, type TempFile } from './atomicWrite.ts';
import { createBufferPool } from './bufferPool.ts';
import type { ContentStore } from './contentStore.ts';
import { sha256Hex } from './digest.ts';
import type { HeldChunk } from './heldChunks.ts';
import { blockBytes, readExactly } from './readRange.ts';

/** A file written out and hashed, in a temp file for the caller to publish or discard. */
export interface BuiltObject {
  temp: TempFile;
  sha256: string;
}

/** A file's place in the artifact's byte stream: enough to build it before its digest is known. */
export interface FileRange {
  path: string;
  start: number;
  length: number;
}

/** Where one piece meets one file: bytes [from, to) of the file, from `pieceOffset` in the piece. */
export interface PieceOverlap {
  from: number;
  to: number;
  pieceOffset: number;
}

/**
 * What builders read into, shared by every builder in the process. A fresh buffer per 1 MiB block
 * was fresh memory for every read: a page fault per 4 KiB, and with page faults the largest
 * kernel cost of a fleet worker (bench fleet, perf). A few builders run at once.
 */
const readBlocks = createBufferPool({ maxIdleBytes: 4 * blockBytes });

/**
 * A file's object written and hashed while the download goes on. Pieces received are written
 * into it from their bytes (writePiece), and pieces the CAS already held are copied in
 * (pieceStored); the file is hashed in order, from the bytes themselves when a piece continues
 * what is hashed, and read back otherwise. Built after the last piece instead, a 1 GiB file was
 * read, hashed and written again before the job could finish. The object is published only by
 * materialize, once its whole-file SHA-256 matches (buildObject.ts).
 *
 * With a `path` (under the store's partial/), the file is kept across restarts and may hold
 * chunks itself (createObjectBuilders); without one it is a temp file. A builder that failed
 * leaves materialize to build the object from the chunks as before.
 */
export class ObjectBuilder {
  readonly file: FileRange;
  readonly #store: ContentStore;
  readonly #pieceLength: number;
  readonly #path: string | undefined;
  readonly #onWholePieceCopied: ((index: number, sha256: string, length: number) => void) | undefined;
  /** Pieces whose part of this file is written, with the digest they were written under. */
  readonly #present = new Map<number, string>();
  /** Pieces being written or copied in now. */
  readonly #pending = new Set<number>();
  readonly #writes = new Set<Promise<void>>();
  #hash: Hash = createHash('sha256');
  /** Bytes of the file hashed so far, always at the end of a piece's part unless #advancing. */
  #hashed = 0;
  #advancing = false;
  #temp: Promise<TempFile> | undefined;
  #work: Promise<void> = Promise.resolve();
  #failure: Error | undefined;
  #closed = false;
  /** The file went to the caller of finish, to publish or discard. */
  #handedOver = false;

  constructor(
    store: ContentStore,
    pieceLength: number,
    file: FileRange,
    options: { path?: string | undefined; onWholePieceCopied?: (index: number, sha256: string, length: number) => void } = {},
  ) {
    this.#store = store;
    this.#pieceLength = pieceLength;
    this.file = file;
    this.#path = options.path;
    this.#onWholePieceCopied = options.onWholePieceCopied;
  }

  /** The kept file's path (under partial/), or undefined for a temp file. */
  get path(): string | undefined {
    return this.#path;
  }

  overlap(index: number): PieceOverlap | undefined {
    const pieceStart = index * this.#pieceLength;
    const from = Math.max(pieceStart, this.file.start);
    const to = Math.min(pieceStart + this.#pieceLength, this.file.start + this.file.length);
    return from < to ? { from: from - this.file.start, to: to - this.file.start, pieceOffset: from - pieceStart } : undefined;
  }

  /** Whether the whole piece, `bytes` long, is inside this file: it can then be held here. */
  holdsWhole(index: number, bytes: number): boolean {
    const part = this.overlap(index);
    return part !== undefined && part.pieceOffset === 0 && part.to - part.from === bytes;
  }

  /** Whether this file's part of piece `index` is written with the bytes of `sha256`. */
  has(index: number, sha256: string): boolean {
    return this.#present.get(index) === sha256;
  }

  /**
   * Writes this file's part of piece `index` from the piece's verified bytes (of `sha256`), or
   * waits for the copy under way from the CAS; throws if it cannot write. Bytes written before
   * under another digest (a resumed file whose origin changed since) are written over.
   */
  async writePiece(index: number, sha256: string, bytes: Uint8Array): Promise<void> {
    const part = this.overlap(index);
    if (part === undefined || this.#present.get(index) === sha256) return;
    if (this.#pending.has(index)) return this.#allIn([]);
    if (this.#present.has(index)) this.#rewind(index, part);
    if (this.#closed) throw new Error(`the object for ${this.file.path} is no longer being built`);
    if (this.#failure !== undefined) throw this.#failure;
    this.#pending.add(index);
    const writing = this.#write(index, sha256, part, bytes.subarray(part.pieceOffset, part.pieceOffset + part.to - part.from));
    this.#writes.add(writing);
    try {
      await writing;
    } finally {
      this.#writes.delete(writing);
      this.#pending.delete(index);
    }
  }

  /** Piece `index` is to be written again: if it was hashed already, the file's hash can no longer be trusted. */
  #rewind(index: number, part: PieceOverlap): void {
    if (this.#path !== undefined) this.#store.releaseHeldChunk(this.#path, this.#present.get(index)!);
    this.#present.delete(index);
    // Being read for the hash now: that hash can no longer be trusted. Hashed already: hashed
    // again from the start of the file, read back, once the new bytes are in.
    if (this.#advancing) this.#failure ??= new Error(`piece ${index} of ${this.file.path} changed while it was hashed`);
    else if (part.from < this.#hashed) {
      this.#hash = createHash('sha256');
      this.#hashed = 0;
    }
  }

  async #write(index: number, sha256: string, part: PieceOverlap, bytes: Uint8Array): Promise<void> {
    try {
      const { handle } = await this.#open();
      await writeAll(handle, bytes, part.from);
    } catch (error) {
      this.#failure ??= asError(error);
      throw error;
    }
    this.#present.set(index, sha256);
    // In order: hashed from these bytes, not read back from the file later.
    if (!this.#advancing && part.from === this.#hashed) {
      this.#hash.update(bytes);
      this.#hashed = part.to;
    }
    this.#work = this.#work.then(() => this.#advance());
  }

  /** Piece `index` of the artifact is in the CAS under `sha256`: its part of the file is copied from there. */
  pieceStored(index: number, sha256: string): void {
    const part = this.overlap(index);
    if (part === undefined || this.#closed || this.#present.get(index) === sha256 || this.#pending.has(index)) return;
    this.#pending.add(index);
    // Rewound in turn, when no hash read of the file is under way (those run in #work too).
    this.#work = this.#work
      .then(() => {
        if (this.#present.has(index)) this.#rewind(index, part);
        return this.#copy(index, sha256, part);
      })
      .then(() => this.#advance());
  }

  /**
   * Pieces read back from the kept file after a restart, each checked against the digest it was
   * written under: those that match are this file's again. Returns them, to be held.
   */
  async resume(pieces: readonly { index: number; sha256: string; length: number }[]): Promise<HeldChunk[]> {
    const held: HeldChunk[] = [];
    const { handle } = await this.#open();
    for (const { index, sha256, length } of pieces) {
      const part = this.overlap(index);
      if (part === undefined || !this.holdsWhole(index, length) || this.#present.has(index)) continue;
      const bytes = await readExactly(handle, part.from, length, `the kept file of ${this.file.path}`).catch(() => undefined);
      if (bytes === undefined || sha256Hex(bytes) !== sha256) continue;
      this.#present.set(index, sha256);
      held.push({ sha256, offset: part.from, length });
    }
    this.#work = this.#work.then(() => this.#advance());
    return held;
  }

  /**
   * The file whole and hashed, for the caller to publish or discard. Pieces not announced yet are
   * taken from `pieceSha256`. Undefined when this builder failed; the caller then builds the
   * object itself.
   */
  async finish(pieceSha256: readonly string[]): Promise<BuiltObject | undefined> {
    return (await this.#complete(pieceSha256)).built;
  }

  /** As finish, for a builder started only now: what made it fail is thrown. */
  async build(pieceSha256: readonly string[]): Promise<BuiltObject> {
    const { built, failure } = await this.#complete(pieceSha256);
    if (built === undefined) throw failure;
    return built;
  }

  async #complete(pieceSha256: readonly string[]): Promise<{ built?: BuiltObject; failure?: unknown }> {
    await this.#allIn(pieceSha256);
    this.#closed = true;
    if (this.#failure !== undefined || this.#hashed !== this.file.length) {
      const failure = this.#failure ?? new RangeError(`the pieces given cover ${this.#hashed} of the ${this.file.length} bytes of ${this.file.path}`);
      // A kept file may hold chunks that are still served: it goes with the job (discard).
      if (this.#path === undefined) await this.discard();
      return { failure };
    }
    const temp = await this.#open();
    this.#handedOver = true;
    return { built: { temp, sha256: this.#hash.digest('hex') } };
  }

  /**
   * The file's SHA-256 once every piece is in (those not announced taken from `pieceSha256`),
   * without ending the build; undefined when this builder failed. The seed reports it in the
   * manifest instead of reading the whole artifact back once more.
   */
  async sha256(pieceSha256: readonly string[]): Promise<string | undefined> {
    await this.#allIn(pieceSha256);
    if (this.#failure !== undefined || this.#hashed !== this.file.length || this.#closed) return undefined;
    return this.#hash.copy().digest('hex');
  }

  /** Takes nothing more in, and waits for what is under way: its file then changes no more. */
  async stop(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled(this.#writes);
    await this.#work;
  }

  /** Stops, and removes the file unless it was handed over (a job that ended before materializing). */
  async discard(): Promise<void> {
    await this.stop();
    if (!this.#handedOver) await this.#letGoOfFile('remove');
  }

  /** The file could not be published after it was handed over: closed, its chunks no longer held, and removed. */
  async abandon(): Promise<void> {
    await this.#letGoOfFile('remove');
  }

  /** Stops, and keeps the file for the job to resume after a restart (a worker that drains). */
  async close(): Promise<void> {
    await this.stop();
    if (!this.#handedOver) await this.#letGoOfFile('keep');
  }

  /** Its chunks are released before the file goes, so that no reader is sent to a name that no longer exists. */
  async #letGoOfFile(file: 'remove' | 'keep'): Promise<void> {
    if (this.#path !== undefined) this.#store.releaseHeld(this.#path);
    const temp = await this.#temp?.catch(() => undefined);
    this.#temp = undefined;
    if (file === 'keep') await temp?.handle.close().catch(() => undefined);
    else if (temp !== undefined) await discardTempFile(temp);
    else if (this.#path !== undefined) await unlink(this.#path).catch(() => undefined);
  }

  #open(): Promise<TempFile> {
    return (this.#temp ??= this.#path === undefined ? createTempFile(this.#store.layout.tmp) : openKeptFile(this.#path));
  }

  /** Announces the pieces not announced yet, and waits until the file is written and hashed as far as they go. */
  async #allIn(pieceSha256: readonly string[]): Promise<void> {
    pieceSha256.forEach((digest, index) => this.pieceStored(index, digest));
    for (;;) {
      const work = this.#work;
      await Promise.allSettled(this.#writes);
      await work;
      if (work === this.#work && this.#writes.size === 0) return;
    }
  }

  async #copy(index: number, sha256: string, part: PieceOverlap): Promise<void> {
    try {
      if (this.#failure !== undefined || this.#closed) return;
      const { handle } = await this.#open();
      const chunk = await this.#store.openChunk(sha256);
      const into = readBlocks.take(blockBytes);
      try {
        for (let at = part.from; at < part.to; ) {
          const size = Math.min(blockBytes, part.to - at);
          const position = chunk.start + part.pieceOffset + (at - part.from);
          const block = await readExactly(chunk.handle, position, size, `chunk ${sha256} (piece ${index})`, into.subarray(0, size));
          await writeAll(handle, block, at);
          at += size;
        }
      } finally {
        readBlocks.give(into);
        await chunk.handle.close();
      }
      this.#present.set(index, sha256);
      if (this.#path !== undefined && part.pieceOffset === 0 && chunk.size === part.to - part.from) this.#onWholePieceCopied?.(index, sha256, chunk.size);
    } catch (error) {
      this.#failure ??= asError(error);
    } finally {
      this.#pending.delete(index);
    }
  }

  /** Hashes what is written from the next unhashed byte on, reading it back from the file. */
  async #advance(): Promise<void> {
    if (this.#failure !== undefined) return;
    let end = this.#hashed;
    while (end < this.file.length && this.#present.has(Math.floor((this.file.start + end) / this.#pieceLength))) {
      end = this.overlap(Math.floor((this.file.start + end) / this.#pieceLength))!.to;
    }
    if (end === this.#hashed) return;
    this.#advancing = true;
    const into = readBlocks.take(blockBytes);
    try {
      const { handle } = await this.#open();
      while (this.#hashed < end) {
        const size = Math.min(blockBytes, end - this.#hashed);
        this.#hash.update(await readExactly(handle, this.#hashed, size, `the object being built for ${this.file.path}`, into.subarray(0, size)));
        this.#hashed += size;
      }
    } catch (error) {
      this.#failure ??= asError(error);
    } finally {
      readBlocks.give(into);
      this.#advancing = false;
    }
  }
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

async function writeAll(handle: TempFile['handle'], bytes: Uint8Array, position: number): Promise<void> {
  for (let at = 0; at < bytes.length; ) {
    const { bytesWritten } = await handle.write(bytes, at, bytes.length - at, position + at);
    at += bytesWritten;
  }
}
