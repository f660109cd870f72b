import type { ContentStore } from './contentStore.ts';

/** Bounded so that a segment of thousands of pieces does not open thousands of stats at once. */
const concurrency = 32;

/**
 * The pieces of a segment the store already holds, as a BitTorrent bitfield (piece 0 is the
 * most significant bit of byte 0) for webtorrent's `bitfield` option: a restarted worker
 * resumes without downloading them again. Presence is enough: a chunk is there only verified.
 */
export async function verifiedBitfield(cas: ContentStore, pieceSha256: readonly string[]): Promise<Uint8Array> {
  const bits = new Uint8Array(Math.ceil(pieceSha256.length / 8));
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let index = next++; index < pieceSha256.length; index = next++) {
      if (await cas.hasChunk(pieceSha256[index]!)) bits[index >>> 3]! |= 0x80 >>> (index & 7);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, pieceSha256.length) }, worker));
  return bits;
}
