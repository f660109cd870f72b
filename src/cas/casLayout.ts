import { join } from 'node:path';

/** Where everything lives under a store's root. Digests are validated before they get here. */
export interface CasLayout {
  readonly root: string;
  readonly chunks: string;
  readonly objects: string;
  readonly tmp: string;
  readonly pins: string;
  /** Files of artifacts being downloaded, one directory per job, kept across restarts (objectBuilder.ts). */
  readonly partial: string;
}

export function casLayout(root: string): CasLayout {
  return { root, chunks: join(root, 'chunks'), objects: join(root, 'objects'), tmp: join(root, 'tmp'), pins: join(root, 'pins'), partial: join(root, 'partial') };
}

/** Two hex characters of fan-out keep directories at 1/256 of the entries. */
export function fanOutPath(directory: string, sha256: string): string {
  return join(directory, sha256.slice(0, 2), sha256);
}

export function chunkPath(layout: CasLayout, sha256: string): string {
  return fanOutPath(layout.chunks, sha256);
}

export function objectPath(layout: CasLayout, sha256: string): string {
  return fanOutPath(layout.objects, sha256);
}

export const fanOutNames: readonly string[] = Array.from({ length: 256 }, (_, index) => index.toString(16).padStart(2, '0'));
