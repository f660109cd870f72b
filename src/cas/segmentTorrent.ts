import { createHash } from 'node:crypto';
import bencode from 'bencode';
import type { ContentStore } from './contentStore.ts';

export interface SegmentTorrentInput {
  /** A label only: CasChunkStore never turns it into a path. */
  name: string;
  pieceLength: number;
  /** Bytes in the segment: all its pieces, the last one possibly short. */
  length: number;
  /** SHA-1 of each piece, in order (BitTorrent v1 verifies pieces by SHA-1). */
  sha1: readonly Uint8Array[];
  /** Tracker URLs; the first is `announce`, all of them one tier of `announce-list`. */
  announce?: readonly string[];
}

export interface SegmentTorrent {
  infoHash: string;
  /** The bencoded info dictionary: what the manifest publishes and the info hash is taken over. */
  info: Buffer;
  torrentFile: Buffer;
}

/** BEP 52's minimum, and webtorrent's request size: smaller pieces only add overhead. */
const minPieceLength = 16 * 1024;

/**
 * A private single-file v1 torrent for one segment of an artifact. `private: 1` tells clients
 * to use no DHT, PEX or LSD for it (invariant 9).
 */
export function buildSegmentTorrent(input: SegmentTorrentInput): SegmentTorrent {
  const { name, pieceLength, length, sha1, announce = [] } = input;
  if (name.length === 0 || /[/\\]/.test(name) || name.includes('\0')) throw new TypeError(`segment name must be a non-empty plain name, got ${JSON.stringify(name)}`);
  if (!Number.isSafeInteger(pieceLength) || pieceLength < minPieceLength || (pieceLength & (pieceLength - 1)) !== 0) {
    throw new RangeError(`pieceLength must be a power of two of at least ${minPieceLength}, got ${pieceLength}`);
  }
  if (!Number.isSafeInteger(length) || length < 1) throw new RangeError(`segment length must be a positive integer, got ${length}`);
  const pieceCount = Math.ceil(length / pieceLength);
  if (sha1.length !== pieceCount) throw new RangeError(`${length} bytes make ${pieceCount} pieces of ${pieceLength}, but ${sha1.length} SHA-1 digests were given`);
  sha1.forEach((digest, index) => {
    if (digest.byteLength !== 20) throw new RangeError(`sha1[${index}] has ${digest.byteLength} bytes, not 20`);
  });

  const info = { length, name, 'piece length': pieceLength, pieces: Buffer.concat(sha1), private: 1 };
  const encodedInfo = Buffer.from(bencode.encode(info));
  const torrent: Record<string, unknown> = { info };
  if (announce.length > 0) {
    torrent.announce = announce[0]!;
    torrent['announce-list'] = [announce];
  }
  return { infoHash: createHash('sha1').update(encodedInfo).digest('hex'), info: encodedInfo, torrentFile: Buffer.from(bencode.encode(torrent)) };
}

/** SHA-1 of each chunk, read from the store one piece at a time (e.g. to re-publish a segment). */
export async function chunkSha1(cas: ContentStore, pieceSha256: readonly string[]): Promise<Buffer[]> {
  const digests: Buffer[] = [];
  for (const sha256 of pieceSha256) digests.push(createHash('sha1').update(await cas.readChunk(sha256)).digest());
  return digests;
}
