import magnetDecode from 'magnet-uri';
import { TorrentEdgeError } from '../errors.ts';

export interface ParsedMagnet {
  /** Lower-case hex BitTorrent v1 info hash: the root of trust for a magnet source. */
  infoHash: string;
  displayName: string | null;
}

// A v1 info hash as magnet links carry it: 40 hex digits, or 32 base32 characters (RFC 4648).
const btihPattern = /^urn:btih:([0-9a-fA-F]{40}|[A-Za-z2-7]{32})$/;

/**
 * Accepts `magnet:?xt=urn:btih:<40 hex | 32 base32>`. The exact form of the hash is checked here
 * first (magnet-uri matches prefixes, so it would cut a 41-character hash or read the first 32
 * characters of a 39-character one); magnet-uri then decodes base32 to hex.
 */
export function parseMagnetUri(magnetURI: string): ParsedMagnet {
  const invalid = (why: string) => new TorrentEdgeError('TE_ERR_INVALID_MAGNET', `invalid magnetURI: ${why}`);
  if (!magnetURI.startsWith('magnet:?')) throw invalid('it must start with "magnet:?"');
  const query = magnetURI.slice('magnet:?'.length);
  // URLSearchParams keeps a malformed escape as text; a link with one is corrupt, so refuse it.
  for (const part of query.split('&')) {
    try {
      decodeURIComponent(part);
    } catch {
      throw invalid(`"${part}" has a malformed percent-escape`);
    }
  }
  const params = new URLSearchParams(query);
  const topics = params.getAll('xt').filter((xt) => xt.toLowerCase().startsWith('urn:btih:'));
  if (topics.length !== 1) throw invalid('it needs exactly one xt=urn:btih:<info hash>');
  const topic = topics[0]!;
  if (!btihPattern.test(topic)) {
    throw invalid(`"${topic.slice('urn:btih:'.length)}" is not a 40-character hex or 32-character base32 info hash`);
  }
  const infoHash = magnetDecode(`magnet:?xt=${topic}`).infoHash;
  if (infoHash === undefined || !/^[0-9a-f]{40}$/.test(infoHash)) throw invalid(`cannot decode the info hash of "${topic}"`);
  const name = params.get('dn');
  return { infoHash, displayName: name === null || name === '' ? null : name };
}
