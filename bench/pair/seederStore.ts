import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { buildSegmentTorrent, ContentStore } from '../../src/cas/index.ts';
import { planPieceLayout } from '../../src/origin/pieceLayout.ts';
import type { SegmentSpec } from './roleProtocol.ts';

export type PieceLayout = ReturnType<typeof planPieceLayout>;

/**
 * What the seed job does with the origin (src/workers/seedJob.ts), untimed: the worker's piece
 * layout, each piece SHA-256'd and SHA-1'd and put into the seeder's store, and one segment
 * torrent per `segmentPieces` pieces.
 */
export async function fillSeederStore(artifactPath: string, casRoot: string, size: number, pieceLength?: number): Promise<{ layout: PieceLayout; segments: SegmentSpec[] }> {
  const layout = planPieceLayout(size, pieceLength === undefined ? {} : { minPieceLength: pieceLength, maxPieceLength: pieceLength });
  const cas = await ContentStore.open(casRoot);
  const file = await open(artifactPath, 'r');
  const segments: SegmentSpec[] = [];
  try {
    const buffer = Buffer.allocUnsafe(layout.pieceLength);
    for (let first = 0, segment = 0; first < layout.pieceCount; first += layout.segmentPieces, segment++) {
      const count = Math.min(layout.segmentPieces, layout.pieceCount - first);
      const sha1: Buffer[] = [];
      const pieceSha256: string[] = [];
      for (let index = first; index < first + count; index++) {
        const offset = index * layout.pieceLength;
        const length = Math.min(layout.pieceLength, size - offset);
        const { bytesRead } = await file.read(buffer, 0, length, offset);
        if (bytesRead !== length) throw new Error(`short read of piece ${index}: ${bytesRead} of ${length} bytes`);
        const piece = buffer.subarray(0, length);
        const sha256 = createHash('sha256').update(piece).digest('hex');
        sha1.push(createHash('sha1').update(piece).digest());
        pieceSha256.push(sha256);
        await cas.putChunk(sha256, piece);
      }
      const length = Math.min(size, (first + count) * layout.pieceLength) - first * layout.pieceLength;
      const { infoHash, torrentFile } = buildSegmentTorrent({ name: `bench-pair.part-${segment}`, pieceLength: layout.pieceLength, length, sha1 });
      segments.push({ infoHash, torrentFile: torrentFile.toString('base64'), pieceSha256 });
    }
  } finally {
    await file.close();
  }
  return { layout, segments };
}
