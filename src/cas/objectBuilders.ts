import { mkdir, open, readFile, rm, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContentStore, PutChunkOutcome } from './contentStore.ts';
import { ObjectBuilder } from './objectBuilder.ts';
import { VerifiedChunk } from './verifiedChunk.ts';

export interface ObjectBuildersOptions {
  /**
   * Builds the files under partial/<key>/ of the store: a piece wholly inside one file is then
   * written only there, and is found there by its digest (heldChunks.ts), and what was written
   * survives a restart of the job. One key per job on a store (the job's lease makes it one
   * writer). Without a key the files are temp files and every piece goes to chunks/ too.
   */
  partialKey?: string;
}

/** Keys become directory names under partial/. */
const partialKeyPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const journalLine = /^(\d+) ([0-9a-f]{64})$/;

interface Layout {
  pieceLength: number;
  files: { path: string; length: number }[];
}

/**
 * The object builders of one job's artifact, one per file, started once the manifest gives the
 * files' lengths (before their digests) and given each piece as it is stored.
 *
 * With a partial key, a journal beside the files lists each piece written into them (its index
 * and digest), appended without fsync: after a restart every piece it lists is read back and
 * hashed before it counts, so a journal line whose bytes never reached the disk costs a
 * download, never a wrong byte. Pieces that span two files still go to chunks/, since a chunk
 * held in a file is one range of it.
 */
export function createObjectBuilders(store: ContentStore, options: ObjectBuildersOptions = {}) {
  const { partialKey } = options;
  if (partialKey !== undefined && !partialKeyPattern.test(partialKey)) throw new TypeError(`partialKey must match ${partialKeyPattern.source}, got ${JSON.stringify(partialKey)}`);
  const directory = partialKey === undefined ? undefined : join(store.layout.partial, partialKey);
  let builders: ObjectBuilder[] | undefined;
  let planning: Promise<void> | undefined;
  let journal: Promise<FileHandle> | undefined;
  let journalClosed = false;
  /** discardAll or closeAll began: nothing is held in the files any more. */
  let finished = false;
  let totalBytes = 0;

  async function plan(pieceLength: number, files: readonly { path: string; length: number }[]): Promise<void> {
    if (partialKey !== undefined) store.claimPartial(partialKey);
    const resumed = directory === undefined ? [] : await keptPieces(directory, { pieceLength, files: files.map(({ path, length }) => ({ path, length })) });
    let start = 0;
    builders = files.map((file, index) => {
      const builder: ObjectBuilder = new ObjectBuilder(store, pieceLength, { path: file.path, start, length: file.length }, {
        path: directory === undefined ? undefined : join(directory, String(index)),
        // Copied in from another file that holds it: held here too, so it outlives that file.
        onWholePieceCopied: (piece, sha256, length) => held(builder, piece, sha256, length),
      });
      start += file.length;
      return builder;
    });
    totalBytes = start;
    // Linked into objects/ before a crash kept it from being unlinked: published, so not written to again.
    for (const builder of builders) if (builder.path !== undefined && ((await stat(builder.path).catch(() => undefined))?.nlink ?? 1) > 1) await unlink(builder.path);
    const lengthOf = (index: number): number => Math.min(pieceLength, totalBytes - index * pieceLength);
    for (const builder of builders) {
      if (builder.path === undefined) continue;
      const mine = resumed.filter(({ index }) => builder.holdsWhole(index, lengthOf(index))).map((piece) => ({ ...piece, length: lengthOf(piece.index) }));
      if (mine.length > 0) store.holdChunks(builder.path, await builder.resume(mine));
    }
  }

  /** Piece `index` is whole in `builder`'s file: found there from now on, and listed for a restart. */
  function held(builder: ObjectBuilder, index: number, sha256: string, length: number): void {
    if (finished) return;
    store.holdChunks(builder.path!, [{ sha256, offset: builder.overlap(index)!.from, length }]);
    void appendToJournal(`${index} ${sha256}\n`);
  }

  function appendToJournal(line: string): Promise<void> {
    if (directory === undefined || journalClosed) return Promise.resolve();
    journal ??= open(join(directory, 'pieces'), 'a');
    // Lost lines cost a download after a restart, never a wrong byte: the download goes on.
    return journal.then((handle) => handle.write(line)).then(
      () => undefined,
      () => undefined,
    );
  }

  async function finish(how: 'discard' | 'close'): Promise<void> {
    await planning?.catch(() => undefined);
    finished = true;
    for (const builder of builders ?? []) await builder.stop();
    // Another job here may have found a chunk in these files and be about to copy it.
    if (partialKey !== undefined && store.partialsInUse().size > 1) await keepHeldAsChunks(store, builders ?? []);
    for (const builder of builders ?? []) await (how === 'discard' ? builder.discard() : builder.close());
    await closeJournal();
    if (how === 'discard' && directory !== undefined) await rm(directory, { recursive: true, force: true });
    if (partialKey !== undefined) store.letGoOfPartial(partialKey);
  }

  async function closeJournal(): Promise<void> {
    journalClosed = true;
    const handle = journal;
    journal = undefined;
    await (await handle?.catch(() => undefined))?.close().catch(() => undefined);
  }

  return {
    /** From the first manifest that lists the files (and, kept from before a restart, what they hold); later calls change nothing. */
    plan(pieceLength: number, files: readonly { path: string; length: number }[]): Promise<void> {
      if (planning === undefined && files.length > 0) planning = plan(pieceLength, files);
      return planning ?? Promise.resolve();
    },
    /**
     * Stores piece `index` of the artifact, checked already: written into the file that holds it
     * whole and held there, or else put in chunks/ and written into each file it touches.
     */
    async storePiece(index: number, chunk: VerifiedChunk): Promise<PutChunkOutcome> {
      await planning;
      const length = chunk.bytes.byteLength;
      const touched = (builders ?? []).filter((builder) => builder.overlap(index) !== undefined);
      const holder = touched.length === 1 && touched[0]!.path !== undefined && touched[0]!.holdsWhole(index, length) ? touched[0]! : undefined;
      // A file that could not be written (its builder failed) is built by materialize from the
      // chunks instead, so the piece goes to chunks/: the download goes on.
      const written = holder === undefined ? false : await holder.writePiece(index, chunk.sha256, chunk.bytes).then(() => holder.has(index, chunk.sha256), () => false);
      if (!written) {
        const outcome = await store.putVerifiedChunk(chunk);
        for (const builder of touched) if (builder !== holder) await builder.writePiece(index, chunk.sha256, chunk.bytes).catch(() => undefined);
        return outcome;
      }
      held(holder!, index, chunk.sha256, length);
      store.countStored(length);
      return 'stored';
    },
    /** Piece `index` of the artifact is in the CAS under `sha256` (it was there before, or was put there). */
    pieceStored(index: number, sha256: string): void {
      for (const builder of builders ?? []) builder.pieceStored(index, sha256);
    },
    /** Each file's SHA-256, in manifest order, or undefined when a builder cannot tell (see ObjectBuilder.sha256). */
    async sha256s(pieceSha256: readonly string[]): Promise<string[] | undefined> {
      await planning;
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
    /** The job ended: its files go, but for those materialize published. */
    discardAll: (): Promise<void> => finish('discard'),
    /** The job stops to go on later (drained, fenced, failed): what its files hold is kept for it. */
    closeAll: (): Promise<void> => finish('close'),
  };
}

export type ObjectBuilders = ReturnType<typeof createObjectBuilders>;

/** What the builders' files hold, each chunk read back, checked and put in chunks/ of its own. */
async function keepHeldAsChunks(store: ContentStore, builders: readonly ObjectBuilder[]): Promise<void> {
  for (const builder of builders) {
    for (const chunk of builder.path === undefined ? [] : store.heldBy(builder.path)) {
      const bytes = await store.readChunk(chunk.sha256).catch(() => undefined);
      const checked = bytes === undefined ? undefined : VerifiedChunk.check(chunk.sha256, bytes);
      if (checked !== undefined && 'chunk' in checked) await store.putVerifiedChunk(checked.chunk).catch(() => undefined);
    }
  }
}

/**
 * The pieces a job's files held before a restart, from the journal, if the files were planned
 * for this same layout; otherwise the directory is emptied and the layout recorded.
 */
async function keptPieces(directory: string, layout: Layout): Promise<{ index: number; sha256: string }[]> {
  const recorded = await readFile(join(directory, 'layout.json'), 'utf8').catch(() => undefined);
  if (recorded !== JSON.stringify(layout)) {
    await rm(directory, { recursive: true, force: true });
    await mkdir(directory, { recursive: true });
    await writeFile(join(directory, 'layout.json'), JSON.stringify(layout));
    return [];
  }
  const lines = (await readFile(join(directory, 'pieces'), 'utf8').catch(() => '')).split('\n');
  const pieces: { index: number; sha256: string }[] = [];
  for (const line of lines) {
    const match = journalLine.exec(line);
    if (match !== null) pieces.push({ index: Number(match[1]), sha256: match[2]! });
  }
  return pieces;
}
