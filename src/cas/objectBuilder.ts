import { createHash, type Hash } from 'node:crypto';
import { createTempFile, discardTempFile, type TempFile } from './atomicWrite.ts';
import { createBufferPool } from './bufferPool.ts';
import type { ContentStore } from './contentStore.ts';
import { artifactBytes, blockBytes } from './readRange.ts';

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

/**
 * What builders read the CAS into, shared by every builder in the process. A fresh buffer per
 * 1 MiB block was fresh memory for every read: a page fault per 4 KiB, and with page faults the
 * largest kernel cost of a fleet worker (bench fleet, perf). A few builders run at once.
 */
const readBlocks = createBufferPool({ maxIdleBytes: 4 * blockBytes });

/**
 * A file's object written and hashed while the download goes on, from each piece as soon as it and
 * every piece before it in the file are in the CAS. Built after the last piece instead, a 1 GiB
 * file was read, hashed and written again before the job could finish (on 2 busy cores, several
 * seconds per node at the end of bench fleet). The bytes come from the CAS, where they were
 * verified; the object is published only by materialize, once its whole-file SHA-256 matches
 * (buildObject.ts). A builder that failed, or never started, leaves materialize to build as before.
 */
export class ObjectBuilder {
  readonly file: FileRange;
  readonly #store: ContentStore;
  readonly #pieceLength: number;
  readonly #digests: (string | undefined)[] = [];
  readonly #hash: Hash = createHash('sha256');
  /** Bytes of the file written and hashed so far. */
  #done = 0;
  #temp: Promise<TempFile> | undefined;
  #work: Promise<void> = Promise.resolve();
  #failure: unknown;
  #closed = false;

  constructor(store: ContentStore, pieceLength: number, file: FileRange) {
    this.#store = store;
    this.#pieceLength = pieceLength;
    this.file = file;
  }

  /** Piece `index` of the artifact is in the CAS under `sha256`. */
  pieceStored(index: number, sha256: string): void {
    const first = Math.floor(this.file.start / this.#pieceLength);
    const last = Math.floor((this.file.start + Math.max(this.file.length, 1) - 1) / this.#pieceLength);
    if (index < first || index > last || this.#closed) return;
    this.#digests[index] = sha256;
    this.#work = this.#work.then(() => this.#advance());
  }

  /**
   * The temp file holding the whole file, hashed: the caller publishes or discards it. Pieces not
   * announced yet are taken from `pieceSha256`. Undefined when this builder failed; the caller
   * then builds the object itself.
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
    if (this.#failure !== undefined || this.#done !== this.file.length) {
      await this.discard();
      return { failure: this.#failure ?? new RangeError(`the pieces given cover ${this.#done} of the ${this.file.length} bytes of ${this.file.path}`) };
    }
    const temp = await (this.#temp ??= createTempFile(this.#store.layout.tmp));
    this.#temp = undefined; // the caller's now
    return { built: { temp, sha256: this.#hash.digest('hex') } };
  }

  /**
   * The file's SHA-256 once every piece is in (those not announced taken from `pieceSha256`),
   * without ending the build; undefined when this builder failed. The seed reports it in the
   * manifest instead of reading the whole artifact back once more.
   */
  async sha256(pieceSha256: readonly string[]): Promise<string | undefined> {
    await this.#allIn(pieceSha256);
    if (this.#failure !== undefined || this.#done !== this.file.length || this.#closed) return undefined;
    return this.#hash.copy().digest('hex');
  }

  /** Stops, and removes the temp file (a job that ended before materializing). */
  async discard(): Promise<void> {
    this.#closed = true;
    await this.#work;
    if (this.#temp !== undefined) await discardTempFile(await this.#temp).catch(() => undefined);
    this.#temp = undefined;
  }

  /** Announces the pieces not announced yet, and waits for the file to be written as far as they go. */
  async #allIn(pieceSha256: readonly string[]): Promise<void> {
    pieceSha256.forEach((digest, index) => {
      if (this.#digests[index] === undefined) this.pieceStored(index, digest);
    });
    await this.#work;
  }

  async #advance(): Promise<void> {
    if (this.#failure !== undefined || this.#closed) return;
    try {
      const { start, length } = this.file;
      // The run of pieces from the next byte on that are all in the CAS.
      let end = start + this.#done;
      while (end < start + length && this.#digests[Math.floor(end / this.#pieceLength)] !== undefined) {
        end = Math.min(start + length, (Math.floor(end / this.#pieceLength) + 1) * this.#pieceLength);
      }
      if (end === start + this.#done) return;
      const temp = await (this.#temp ??= createTempFile(this.#store.layout.tmp));
      const digests = this.#digests as string[];
      // Each block is hashed and written before the next is read into the same buffer.
      const into = readBlocks.take(blockBytes);
      try {
        for await (const block of artifactBytes(this.#store.layout, digests, this.#pieceLength, start + this.#done, end - start - this.#done, into)) {
          this.#hash.update(block);
          for (let at = 0; at < block.length; ) {
            const { bytesWritten } = await temp.handle.write(block, at, block.length - at, this.#done + at);
            at += bytesWritten;
          }
          this.#done += block.length;
        }
      } finally {
        readBlocks.give(into);
      }
    } catch (error) {
      this.#failure = error;
    }
  }
}

/**
 * The object builders of one job's artifact, one per file, started once the manifest gives the
 * files' lengths (before their digests) and fed each piece as it lands in the CAS.
 */
export function createObjectBuilders(store: ContentStore) {
  let builders: ObjectBuilder[] | undefined;
  return {
    /** From the first manifest that lists the files; later calls change nothing. */
    plan(pieceLength: number, files: readonly { path: string; length: number }[]): void {
      if (builders !== undefined || files.length === 0) return;
      let start = 0;
      builders = files.map((file) => {
        const builder = new ObjectBuilder(store, pieceLength, { path: file.path, start, length: file.length });
        start += file.length;
        return builder;
      });
    },
    pieceStored(index: number, sha256: string): void {
      for (const builder of builders ?? []) builder.pieceStored(index, sha256);
    },
    /** Each file's SHA-256, in manifest order, or undefined when a builder cannot tell (see ObjectBuilder.sha256). */
    async sha256s(pieceSha256: readonly string[]): Promise<string[] | undefined> {
      if (builders === undefined) return undefined;
      const digests: string[] = [];
      for (const builder of builders) {
        const digest = await builder.sha256(pieceSha256);
        if (digest === undefined) return undefined;
        digests.push(digest);
      }
      return digests;
    },
    /** One per file, in manifest order, for materialize; none when the files were never planned. */
    forFiles(): readonly ObjectBuilder[] | undefined {
      return builders;
    },
    async discardAll(): Promise<void> {
      for (const builder of builders ?? []) await builder.discard();
    },
  };
}

export type ObjectBuilders = ReturnType<typeof createObjectBuilders>;
