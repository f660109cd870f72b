import magnetDecode from 'magnet-uri';
import { TorrentEdgeError } from '../errors.ts';

export interface ParsedMagnet {
  /** Lower-case hex BitTorrent v1 info hash: the root of trust for a magnet source. */
  infoHash: string;
  displayName: string | null;
}

/**
 * Accepts `magnet:?xt=urn:btih:<40 hex | 32 base32>`. magnet-uri decodes (it is lenient and
 * returns an object for anything); the rules for what we accept are here.
 */
export function parseMagnetUri(magnetURI: string): ParsedMagnet {
  const invalid = (why: string) => new TorrentEdgeError('TE_ERR_INVALID_MAGNET', `invalid magnetURI: ${why}`);
  if (!magnetURI.startsWith('magnet:?')) throw invalid('it must start with "magnet:?"');
  const decoded = magnetDecode(magnetURI);
  const topics = [decoded.xt ?? []].flat().filter((xt) => xt.toLowerCase().startsWith('urn:btih:'));
  if (topics.length !== 1) throw invalid('it needs exactly one xt=urn:btih:<info hash>');
  const infoHash = decoded.infoHash;
  if (infoHash === undefined || !/^[0-9a-f]{40}$/.test(infoHash)) {
    throw invalid(`"${topics[0]!.slice('urn:btih:'.length)}" is not a 40-character hex or 32-character base32 info hash`);
  }
  const name = [decoded.name ?? []].flat()[0];
  return { infoHash, displayName: typeof name === 'string' && name !== '' ? name : null };
}
