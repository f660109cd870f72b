import { createHash } from 'node:crypto';
import bencode from 'bencode';
import { TorrentEdgeError } from '../errors.ts';

/** What the control plane checks of a segment's info dictionary before it becomes part of a manifest. */
export interface SegmentInfoSummary {
  infoHash: string;
  length: number;
  pieceLength: number;
  pieceCount: number;
  private: boolean;
}

const invalid = (message: string): TorrentEdgeError => new TorrentEdgeError('TE_ERR_VALIDATION', `segment info: ${message}`);

/**
 * Decodes a bencoded single-file info dictionary (base64). The info hash is computed here, over
 * the bytes as given, rather than taken from the caller.
 */
export function summarizeSegmentInfo(infoBase64: string): SegmentInfoSummary {
  const bytes = Buffer.from(infoBase64, 'base64');
  if (bytes.length === 0 || bytes.toString('base64') !== infoBase64) throw invalid('is not base64');
  let info: unknown;
  try {
    info = bencode.decode(bytes);
  } catch (error) {
    throw invalid(`is not bencoded (${(error as Error).message})`);
  }
  if (typeof info !== 'object' || info === null || Array.isArray(info)) throw invalid('is not a dictionary');
  const fields = info as Record<string, unknown>;
  if ('files' in fields) throw invalid('a segment is a single file; "files" is not allowed');
  const { length, pieces } = fields;
  const pieceLength = fields['piece length'];
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length <= 0) throw invalid('"length" must be a positive integer');
  if (typeof pieceLength !== 'number' || !Number.isSafeInteger(pieceLength) || pieceLength <= 0) throw invalid('"piece length" must be a positive integer');
  if (!(pieces instanceof Uint8Array) || pieces.length % 20 !== 0) throw invalid('"pieces" must be SHA-1 digests of 20 bytes each');
  return {
    infoHash: createHash('sha1').update(bytes).digest('hex'),
    length,
    pieceLength,
    pieceCount: pieces.length / 20,
    private: fields.private === 1,
  };
}
