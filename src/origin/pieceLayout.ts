const mib = 1024 * 1024;

/**
 * Pieces grow with the artifact (DESIGN §5): about a thousand of them, a power of two between
 * 1 and 64 MiB. About sixteen segments let peers start after the first sixteenth is hashed
 * rather than after the whole artifact (cold start), without a swarm per handful of pieces.
 */
export function planPieceLayout(totalBytes: number, options: { minPieceLength?: number; maxPieceLength?: number; targetSegments?: number } = {}) {
  const min = options.minPieceLength ?? mib;
  const max = options.maxPieceLength ?? 64 * mib;
  let pieceLength = min;
  while (pieceLength < max && pieceLength * 1000 < totalBytes) pieceLength *= 2;
  const pieceCount = Math.ceil(totalBytes / pieceLength);
  const segmentPieces = Math.max(4, Math.ceil(pieceCount / (options.targetSegments ?? 16)));
  return { totalBytes, pieceLength, pieceCount, segmentPieces };
}
