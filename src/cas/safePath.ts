import { lstat, mkdir, realpath } from 'node:fs/promises';
import { join, relative, isAbsolute, sep } from 'node:path';
import { UnsafePathError } from './casErrors.ts';

/** Linux NAME_MAX and PATH_MAX, in bytes of UTF-8. */
const maxSegmentBytes = 255;
const maxPathBytes = 4096;

/**
 * A manifest path, checked to be a plain relative POSIX path: 'model/shard-00001.safetensors'.
 * Everything that could name something other than a file below the destination is refused,
 * not repaired: a manifest that needs repair was not written by our origin.
 */
export function sanitizeRelativePath(path: unknown): string {
  if (typeof path !== 'string') throw new UnsafePathError(String(path), 'not a string');
  if (path.length === 0) throw new UnsafePathError(path, 'empty');
  // Control characters include NUL, which C APIs truncate at, and newlines, which break logs.
  if (hasControlCharacter(path)) throw new UnsafePathError(path, 'contains a control character (NUL, newline…)');
  if (path.includes('\\')) throw new UnsafePathError(path, 'contains a backslash');
  if (path.startsWith('/')) throw new UnsafePathError(path, 'is absolute');
  if (/^[A-Za-z]:/.test(path)) throw new UnsafePathError(path, 'starts with a drive letter');
  if (Buffer.byteLength(path) > maxPathBytes) throw new UnsafePathError(path, `is longer than ${maxPathBytes} bytes`);
  for (const segment of path.split('/')) {
    if (segment === '') throw new UnsafePathError(path, 'has an empty segment');
    if (segment === '.' || segment === '..') throw new UnsafePathError(path, `has a "${segment}" segment`);
    if (Buffer.byteLength(segment) > maxSegmentBytes) throw new UnsafePathError(path, `has a segment longer than ${maxSegmentBytes} bytes`);
  }
  return path;
}

export interface ResolveInsideOptions {
  /** Create missing parent directories (one at a time, each checked); otherwise they are only checked where they exist. */
  createParents?: boolean;
}

/**
 * root/relative, guaranteed inside root: the relative path is sanitized, and every parent
 * directory already on disk must be a real directory, not a symlink (lstat, so a symlink planted
 * in the destination cannot redirect a write outside it). The last segment is not followed:
 * callers that replace it must lstat it themselves. A concurrent attacker swapping directories
 * between check and use is out of scope (Node has no openat); the destination is ours.
 */
export async function resolveInside(root: string, relativePath: string, options: ResolveInsideOptions = {}): Promise<string> {
  const clean = sanitizeRelativePath(relativePath);
  const base = await realpath(root);
  const segments = clean.split('/');
  const last = segments.pop()!;
  let current = base;
  let missing = false;
  for (const segment of segments) {
    current = join(current, segment);
    if (missing) continue;
    let stats = await lstat(current).catch(ignoreNotFound);
    if (stats === undefined && options.createParents === true) {
      await mkdir(current).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
      stats = await lstat(current);
    }
    if (stats === undefined) missing = true;
    else if (stats.isSymbolicLink()) throw new UnsafePathError(clean, `${current} is a symlink`);
    else if (!stats.isDirectory()) throw new UnsafePathError(clean, `${current} is not a directory`);
  }
  const target = join(current, last);
  if (!isInside(base, target)) throw new UnsafePathError(clean, `resolves outside ${base}`);
  return target;
}

export function isInside(base: string, candidate: string): boolean {
  const rel = relative(base, candidate);
  return rel !== '' && !isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`);
}

function hasControlCharacter(text: string): boolean {
  for (let at = 0; at < text.length; at++) {
    const code = text.charCodeAt(at);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

function ignoreNotFound(error: NodeJS.ErrnoException): undefined {
  if (error.code === 'ENOENT') return undefined;
  throw error;
}
