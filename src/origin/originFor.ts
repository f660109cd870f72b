import { TorrentEdgeError } from '../errors.ts';
import { createFileOrigin } from './fileOrigin.ts';
import { createHttpOrigin } from './httpOrigin.ts';
import type { Origin } from './origin.ts';

/** The origin of a transfer's source, as the manifest route describes it. */
export function originFor(source: { kind: string; url?: string; path?: string }): Origin {
  if (source.kind === 'url' && source.url !== undefined) {
    if (source.url.startsWith('file://')) return createFileOrigin(new URL(source.url).pathname);
    return createHttpOrigin(source.url);
  }
  if (source.kind === 'push' && source.path !== undefined) return createFileOrigin(source.path);
  throw new TorrentEdgeError('TE_ERR_VALIDATION', `a seed cannot read a ${source.kind} source yet`);
}
