const mib = 1024 * 1024;

/** A segment is shared only once all of it is hashed: the last one, read last, is the fleet's tail. */
const segmentBytesWanted = 16 * mib;
const fewestSegments = 16;
const mostSegments = 64;

/**
 * Pieces a segment is cut into, at least, where the piece length allows: a peer can pass on a piece
 * only once it holds the whole of it, so a piece is one hop of the swarm's tree, and a smaller one
 * is handed on sooner. With 1 MiB pieces, eight to a 128 MiB artifact's 8 MiB segments, sixteen
 * nodes at 25 Mbit/s finished 68.0 s in (the median of fifteen runs); with 512 KiB pieces, 65.5 s
 * (of seventeen). At 1 GiB (1 MiB pieces, not 2 MiB) no difference showed through the noise of a
 * busy host (docs/benchmarks.md, "Sixteen nodes: where the leechers' links go; smaller pieces").
 */
const piecesPerSegment = 16;
const smallestPiece = 256 * 1024;
const largestPiece = 64 * mib;
/**
 * No segment is smaller (but the last): a small artifact is not cut into more swarms than it was
 * when pieces were 1 MiB and four made the smallest segment, each swarm costing its own connections
 * and tracker announces.
 */
const smallestSegment = 4 * mib;

/**
 * Segments let peers start on the first pieces while the origin is still being read (DESIGN §5,
 * cold start). A segment's torrent needs every one of its piece hashes, so nothing of the last
 * segment can be shared before the origin's last byte: with sixteen segments a 1 GiB artifact
 * ended with 64 MiB that every node still lacked, and the last node came 17.7 s after the origin's
 * last byte (bench fleet, 1 GiB). Segments of about 16 MiB, sixteen to sixty-four of them, cut that
 * to 9.7 s; 8 MiB segments were no better, and at 128 MiB 4 MiB segments were slower, each swarm
 * costing its wires (docs/benchmarks.md, "Smaller segments").
 *
 * A piece is the largest power of two that cuts a segment into sixteen, between 256 KiB and
 * 64 MiB: from 1 GiB up to 64 GiB that is about a thousand pieces (DESIGN §5), below 1 GiB fewer
 * and smaller ones. Segments are as many, and as large, as they were with 1 MiB pieces.
 */
export function planPieceLayout(totalBytes: number, options: PieceLayoutOptions = {}) {
  const min = options.minPieceLength ?? smallestPiece;
  const max = options.maxPieceLength ?? largestPiece;
  const targetSegments = options.targetSegments ?? Math.min(mostSegments, Math.max(fewestSegments, Math.round(totalBytes / segmentBytesWanted)));
  const segmentBytes = Math.max(smallestSegment, totalBytes / targetSegments);
  let pieceLength = min;
  while (pieceLength < max && pieceLength * 2 * piecesPerSegment <= segmentBytes) pieceLength *= 2;
  const pieceCount = Math.ceil(totalBytes / pieceLength);
  const segmentPieces = Math.max(4, Math.ceil(smallestSegment / pieceLength), Math.ceil(pieceCount / targetSegments));
  return { totalBytes, pieceLength, pieceCount, segmentPieces };
}

/** Pins what planPieceLayout would choose: benchmarks and tests that need a given piece length or segment count. */
export interface PieceLayoutOptions {
  minPieceLength?: number;
  maxPieceLength?: number;
  targetSegments?: number;
}
