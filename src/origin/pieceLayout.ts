const mib = 1024 * 1024;

/** A segment is shared only once all of it is hashed: the last one, read last, is the fleet's tail. */
const segmentBytesWanted = 16 * mib;
const fewestSegments = 16;
const mostSegments = 64;

/**
 * Pieces grow with the artifact (DESIGN §5): about a thousand of them, a power of two between
 * 1 and 64 MiB. Segments let peers start on the first ones while the origin is still being read
 * (cold start). A segment's torrent needs every one of its piece hashes, so nothing of the last
 * segment can be shared before the origin's last byte: with sixteen segments a 1 GiB artifact
 * ended with 64 MiB that every node still lacked, and the last node came 17.7 s after the origin's
 * last byte (bench fleet, 1 GiB). Segments of about 16 MiB, sixteen to sixty-four of them, cut that
 * to 9.7 s; 8 MiB segments were no better, and at 128 MiB 4 MiB segments were slower, each swarm
 * costing its wires (docs/benchmarks.md, "Smaller segments").
 */
export function planPieceLayout(totalBytes: number, options: { minPieceLength?: number; maxPieceLength?: number; targetSegments?: number } = {}) {
  const min = options.minPieceLength ?? mib;
  const max = options.maxPieceLength ?? 64 * mib;
  let pieceLength = min;
  while (pieceLength < max && pieceLength * 1000 < totalBytes) pieceLength *= 2;
  const pieceCount = Math.ceil(totalBytes / pieceLength);
  const targetSegments = options.targetSegments ?? Math.min(mostSegments, Math.max(fewestSegments, Math.round(totalBytes / segmentBytesWanted)));
  const segmentPieces = Math.max(4, Math.ceil(pieceCount / targetSegments));
  return { totalBytes, pieceLength, pieceCount, segmentPieces };
}
