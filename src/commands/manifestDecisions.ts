import type { ArtifactFile, TransferEvent } from '../events/transferEvents.ts';
import { artifactPathProblem } from './artifactPath.ts';
import { reject, type Decision } from './decider.ts';

export interface ManifestSegment {
  infoHash: string;
  /** The bencoded BitTorrent info dictionary, base64. */
  info: string;
  pieceSha256: readonly string[];
}

/** The artifact layout as the transfer stream knows it; segments fill in as the seed hashes them. */
export interface TransferManifest {
  totalBytes: number;
  pieceLength: number;
  pieceCount: number;
  segmentPieces: number;
  files: readonly ArtifactFile[];
  segments: ReadonlyArray<ManifestSegment | undefined>;
  /** Whole-file SHA-256 per file, in file order, once the manifest is complete. */
  fileDigests: readonly string[] | null;
}

export type ManifestLayout = Pick<TransferManifest, 'totalBytes' | 'pieceLength' | 'pieceCount' | 'segmentPieces' | 'files'>;

export const segmentCountOf = (manifest: Pick<TransferManifest, 'pieceCount' | 'segmentPieces'>): number =>
  Math.ceil(manifest.pieceCount / manifest.segmentPieces);

export const piecesInSegment = (manifest: Pick<TransferManifest, 'pieceCount' | 'segmentPieces'>, segmentIndex: number): number =>
  Math.min(manifest.segmentPieces, manifest.pieceCount - segmentIndex * manifest.segmentPieces);

export const isManifestComplete = (manifest: TransferManifest | null): boolean => manifest?.fileDigests != null;

const sha256Hex = /^[0-9a-f]{64}$/;
const sha1Hex = /^[0-9a-f]{40}$/;
const isPositiveInteger = (value: number): boolean => Number.isSafeInteger(value) && value > 0;
const isPowerOfTwo = (value: number): boolean => isPositiveInteger(value) && (value & (value - 1)) === 0;

function layoutProblem(layout: ManifestLayout): string | undefined {
  const { totalBytes, pieceLength, pieceCount, segmentPieces, files } = layout;
  if (!isPositiveInteger(totalBytes)) return `a manifest needs a positive whole number of bytes, not ${totalBytes}`;
  // BitTorrent pieces are a power of two; workers use 16 KiB and up, tests go smaller.
  if (!isPowerOfTwo(pieceLength) || pieceLength > 2 ** 30) return `piece length must be a power of two, not ${pieceLength}`;
  const expected = Math.ceil(totalBytes / pieceLength);
  if (pieceCount !== expected) return `a manifest of ${totalBytes} bytes in ${pieceLength}-byte pieces has ${expected} pieces, not ${pieceCount}`;
  if (!isPositiveInteger(segmentPieces)) return `pieces per segment must be a positive whole number, not ${segmentPieces}`;
  if (files.length === 0) return 'a manifest lists at least one file';
  const seen = new Set<string>();
  let sum = 0;
  for (const file of files) {
    const problem = artifactPathProblem(file.path);
    if (problem !== undefined) return `file path ${JSON.stringify(file.path)} ${problem}`;
    if (seen.has(file.path)) return `file path ${JSON.stringify(file.path)} is listed twice`;
    seen.add(file.path);
    if (!Number.isSafeInteger(file.length) || file.length < 0) return `file ${file.path} has an invalid length ${file.length}`;
    if (file.version !== undefined && (file.version.length === 0 || file.version.length > 256)) return `file ${file.path} has a version of ${file.version.length} characters`;
    sum += file.length;
  }
  if (sum !== totalBytes) return `the files add up to ${sum} bytes, not ${totalBytes}`;
  return undefined;
}

const sameLayout = (a: ManifestLayout, b: ManifestLayout): boolean =>
  a.totalBytes === b.totalBytes &&
  a.pieceLength === b.pieceLength &&
  a.pieceCount === b.pieceCount &&
  a.segmentPieces === b.segmentPieces &&
  a.files.length === b.files.length &&
  a.files.every((file, i) => file.path === b.files[i]!.path && file.length === b.files[i]!.length && file.version === b.files[i]!.version);

export function decidePublishManifest(transferId: string, layout: ManifestLayout, current: TransferManifest | null): Decision<TransferEvent> {
  if (current !== null) {
    return sameLayout(current, layout) ? [] : reject('TE_ERR_MANIFEST_CONFLICT', `transfer ${transferId} already has a different manifest`);
  }
  const problem = layoutProblem(layout);
  if (problem !== undefined) return reject('TE_ERR_VALIDATION', problem);
  const { totalBytes, pieceLength, pieceCount, segmentPieces } = layout;
  const files = layout.files.map(({ path, length, version }) => (version === undefined ? { path, length } : { path, length, version }));
  return [{ type: 'ManifestPublished', data: { transferId, totalBytes, pieceLength, pieceCount, segmentPieces, files } }];
}

/** What the command layer read out of the segment's info dictionary (see segmentInfo.ts). */
export interface SegmentTorrentFacts {
  length: number;
  pieceLength: number;
  pieceCount: number;
  private: boolean;
}

function segmentFactsProblem(manifest: TransferManifest, segmentIndex: number, facts: SegmentTorrentFacts): string | undefined {
  const pieces = piecesInSegment(manifest, segmentIndex);
  const start = segmentIndex * manifest.segmentPieces * manifest.pieceLength;
  const length = Math.min(manifest.totalBytes, start + pieces * manifest.pieceLength) - start;
  if (!facts.private) return 'its torrent must be private (no DHT or PEX)';
  if (facts.pieceLength !== manifest.pieceLength) return `its torrent has ${facts.pieceLength}-byte pieces, the manifest ${manifest.pieceLength}`;
  if (facts.pieceCount !== pieces) return `its torrent has ${facts.pieceCount} pieces, not ${pieces}`;
  if (facts.length !== length) return `its torrent covers ${facts.length} bytes, not ${length}`;
  return undefined;
}

export function decidePublishSegment(
  transferId: string,
  segment: ManifestSegment & { segmentIndex: number; torrent: SegmentTorrentFacts },
  current: TransferManifest | null,
): Decision<TransferEvent> {
  if (current === null) return reject('TE_ERR_ILLEGAL_TRANSITION', `transfer ${transferId} has no manifest yet; publish it before its segments`);
  const { segmentIndex, infoHash, info, pieceSha256 } = segment;
  const count = segmentCountOf(current);
  if (!Number.isInteger(segmentIndex) || segmentIndex < 0 || segmentIndex >= count) {
    return reject('TE_ERR_CHUNK_OUT_OF_RANGE', `segment ${segmentIndex} is outside 0..${count - 1}`);
  }
  const known = current.segments[segmentIndex];
  if (known !== undefined) {
    const same = known.infoHash === infoHash && known.pieceSha256.length === pieceSha256.length && known.pieceSha256.every((d, i) => d === pieceSha256[i]);
    return same ? [] : reject('TE_ERR_MANIFEST_CONFLICT', `segment ${segmentIndex} of transfer ${transferId} was published with other hashes`);
  }
  if (!sha1Hex.test(infoHash)) return reject('TE_ERR_VALIDATION', `info hash must be 40 lower-case hex digits, not ${JSON.stringify(infoHash)}`);
  const expected = piecesInSegment(current, segmentIndex);
  if (pieceSha256.length !== expected) return reject('TE_ERR_VALIDATION', `segment ${segmentIndex} has ${expected} pieces, not ${pieceSha256.length}`);
  const bad = pieceSha256.findIndex((digest) => !sha256Hex.test(digest));
  if (bad !== -1) return reject('TE_ERR_VALIDATION', `piece digest ${bad} of segment ${segmentIndex} is not 64 lower-case hex digits`);
  const problem = segmentFactsProblem(current, segmentIndex, segment.torrent);
  if (problem !== undefined) return reject('TE_ERR_VALIDATION', `segment ${segmentIndex}: ${problem}`);
  return [{ type: 'ManifestSegmentPublished', data: { transferId, segmentIndex, infoHash, info, pieceSha256: [...pieceSha256] } }];
}

export function decideCompleteManifest(
  transferId: string,
  files: ReadonlyArray<ArtifactFile & { sha256: string }>,
  current: TransferManifest | null,
): Decision<TransferEvent> {
  if (current === null) return reject('TE_ERR_ILLEGAL_TRANSITION', `transfer ${transferId} has no manifest to complete`);
  const sameFiles = files.length === current.files.length && files.every((f, i) => f.path === current.files[i]!.path && f.length === current.files[i]!.length);
  if (!sameFiles) return reject('TE_ERR_MANIFEST_CONFLICT', `the files do not match the manifest of transfer ${transferId}`);
  const bad = files.find((file) => !sha256Hex.test(file.sha256));
  if (bad !== undefined) return reject('TE_ERR_VALIDATION', `the SHA-256 of ${bad.path} is not 64 lower-case hex digits`);
  if (current.fileDigests !== null) {
    return files.every((f, i) => f.sha256 === current.fileDigests![i]) ? [] : reject('TE_ERR_MANIFEST_CONFLICT', `transfer ${transferId} completed its manifest with other digests`);
  }
  const missing = Array.from({ length: segmentCountOf(current) }, (_, i) => i).filter((i) => current.segments[i] === undefined);
  if (missing.length > 0) return reject('TE_ERR_ILLEGAL_TRANSITION', `segments ${missing.slice(0, 10).join(', ')} of transfer ${transferId} are not published yet`);
  return [{ type: 'ManifestCompleted', data: { transferId, files: files.map(({ path, length, sha256 }) => ({ path, length, sha256 })) } }];
}

export function evolveManifest(manifest: TransferManifest | null, event: TransferEvent): TransferManifest | null {
  switch (event.type) {
    case 'ManifestPublished': {
      const { totalBytes, pieceLength, pieceCount, segmentPieces, files } = event.data;
      return { totalBytes, pieceLength, pieceCount, segmentPieces, files, segments: [], fileDigests: null };
    }
    case 'ManifestSegmentPublished': {
      if (manifest === null) return manifest;
      const segments = [...manifest.segments];
      const { segmentIndex, infoHash, info, pieceSha256 } = event.data;
      segments[segmentIndex] = { infoHash, info, pieceSha256 };
      return { ...manifest, segments };
    }
    case 'ManifestCompleted':
      return manifest === null ? manifest : { ...manifest, fileDigests: event.data.files.map((file) => file.sha256) };
    default:
      return manifest;
  }
}
