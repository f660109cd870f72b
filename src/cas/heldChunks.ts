import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from './atomicWrite.ts';
import { fanOutNames, objectPath, type CasLayout } from './casLayout.ts';
import { assertSha256Hex } from './digest.ts';
import { fileSize } from './fileStats.ts';

/** Where a chunk's bytes are inside a larger file: a file being downloaded, or a published object. */
export interface HeldChunk {
  sha256: string;
  /** The byte in the file where the chunk starts. */
  offset: number;
  length: number;
}

export interface ChunkLocation extends HeldChunk {
  path: string;
}

/**
 * Chunks kept inside files instead of as files of their own. A downloaded piece that lies wholly
 * inside one of the artifact's files is written once, into that file, where it is found by its
 * SHA-256 like any chunk: writing it a second time as chunks/<sha256> cost a node half its disk
 * and, on this machine, most of the CPU of its file writes (fresh page-cache pages; see
 * docs/benchmarks.md, "One write per byte"). Each chunk was verified before it was held.
 */
export class HeldChunks {
  readonly #byDigest = new Map<string, ChunkLocation>();
  readonly #byPath = new Map<string, Map<string, HeldChunk>>();

  get size(): number {
    return this.#byDigest.size;
  }

  locate(sha256: string): ChunkLocation | undefined {
    return this.#byDigest.get(sha256);
  }

  /** Chunks held by the file at `path`. */
  heldBy(path: string): HeldChunk[] {
    return [...(this.#byPath.get(path)?.values() ?? [])];
  }

  hold(path: string, chunk: HeldChunk): void {
    this.#byDigest.set(chunk.sha256, { ...chunk, path });
    let chunks = this.#byPath.get(path);
    if (chunks === undefined) this.#byPath.set(path, (chunks = new Map<string, HeldChunk>()));
    chunks.set(chunk.sha256, chunk);
  }

  /** Forgets what `path` holds (the file goes); a digest held elsewhere too stays found there. */
  release(path: string): void {
    for (const sha256 of [...(this.#byPath.get(path)?.keys() ?? [])]) this.releaseChunk(path, sha256);
    this.#byPath.delete(path);
  }

  /** `path` no longer holds this digest (its bytes there are about to be written over). */
  releaseChunk(path: string, sha256: string): void {
    const chunks = this.#byPath.get(path);
    if (chunks?.delete(sha256) !== true) return;
    if (this.#byDigest.get(sha256)?.path !== path) return;
    this.#byDigest.delete(sha256);
    for (const [other, held] of this.#byPath) {
      const chunk = held.get(sha256);
      if (chunk !== undefined) return void this.#byDigest.set(sha256, { ...chunk, path: other });
    }
  }

  /** The digest is found nowhere it was held (its bytes there were found damaged); returns the paths that held it. */
  forget(sha256: string): string[] {
    this.#byDigest.delete(sha256);
    const holders: string[] = [];
    for (const [path, chunks] of this.#byPath) if (chunks.delete(sha256)) holders.push(path);
    return holders;
  }

  /** The chunks of `from` are in `to` now, at the same offsets (the file was published there). */
  move(from: string, to: string): void {
    const chunks = this.heldBy(from);
    this.release(from);
    for (const chunk of chunks) this.hold(to, chunk);
  }
}

/** Beside objects/<aa>/<sha256>: the chunks that object holds, so they are found after a restart. */
export function chunkMapPath(layout: CasLayout, objectSha256: string): string {
  return `${objectPath(layout, objectSha256)}.chunks`;
}

interface ChunkMapFile {
  chunks: HeldChunk[];
}

/** Written (atomically) before the object is published: an object is never there without its map. */
export async function writeChunkMap(layout: CasLayout, objectSha256: string, chunks: readonly HeldChunk[]): Promise<void> {
  const target = chunkMapPath(layout, objectSha256);
  const record: ChunkMapFile = { chunks: chunks.map(({ sha256, offset, length }) => ({ sha256, offset, length })) };
  await writeFileAtomically(layout.tmp, target, join(layout.objects, objectSha256.slice(0, 2)), Buffer.from(JSON.stringify(record)));
}

export async function removeChunkMap(layout: CasLayout, objectSha256: string): Promise<void> {
  await unlink(chunkMapPath(layout, objectSha256)).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

/**
 * Every published object's map, for ContentStore.open. A map whose object is gone (a crash
 * between the two, or removed by hand) is removed; an entry outside its object is skipped. A map
 * that does not parse is skipped, not trusted: its chunks are simply not found.
 */
export async function loadChunkMaps(layout: CasLayout, into: HeldChunks): Promise<void> {
  for (const fanOut of fanOutNames) {
    const names = await readdir(join(layout.objects, fanOut)).catch(() => [] as string[]);
    for (const name of names) {
      const objectSha256 = /^([0-9a-f]{64})\.chunks$/.exec(name)?.[1];
      if (objectSha256 === undefined) continue;
      const object = objectPath(layout, objectSha256);
      const size = await fileSize(object);
      if (size === undefined) {
        await removeChunkMap(layout, objectSha256);
        continue;
      }
      const record = parseChunkMap(await readFile(join(layout.objects, fanOut, name), 'utf8'));
      for (const chunk of record?.chunks ?? []) if (chunk.offset + chunk.length <= size) into.hold(object, chunk);
    }
  }
}

function parseChunkMap(text: string): ChunkMapFile | undefined {
  try {
    const record = JSON.parse(text) as ChunkMapFile;
    for (const chunk of record.chunks) {
      assertSha256Hex(chunk.sha256);
      if (!Number.isSafeInteger(chunk.offset) || !Number.isSafeInteger(chunk.length) || chunk.offset < 0 || chunk.length < 1) return undefined;
    }
    return record;
  } catch {
    return undefined;
  }
}
