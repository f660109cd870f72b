/**
 * An immutable set of chunk indexes, one bit each. Folding a job stream adds one batch per
 * ChunksVerified event; copying a Set of every verified index per event made a fold quadratic
 * (18 ms for a 256-batch job in `npm run bench -- control-plane`), while copying the bitmap is a
 * memcpy of pieceCount / 8 bytes.
 */
export class ChunkBitmap implements Iterable<number> {
  static readonly empty = new ChunkBitmap(new Uint8Array(0), 0);

  readonly #bits: Uint8Array;
  readonly size: number;

  private constructor(bits: Uint8Array, size: number) {
    this.#bits = bits;
    this.size = size;
  }

  has(index: number): boolean {
    const byte = this.#bits[index >>> 3];
    return byte !== undefined && (byte & (1 << (index & 7))) !== 0;
  }

  /** A new bitmap with `indexes` added (non-negative integers). */
  with(indexes: Iterable<number>): ChunkBitmap {
    const list = [...indexes];
    const highest = list.reduce((max, index) => Math.max(max, index), -1);
    const bits = new Uint8Array(Math.max(this.#bits.length, (highest >>> 3) + 1));
    bits.set(this.#bits);
    let size = this.size;
    for (const index of list) {
      const mask = 1 << (index & 7);
      const at = index >>> 3;
      if ((bits[at]! & mask) === 0) {
        bits[at]! |= mask;
        size++;
      }
    }
    return new ChunkBitmap(bits, size);
  }

  *[Symbol.iterator](): Iterator<number> {
    for (let at = 0; at < this.#bits.length; at++) {
      const byte = this.#bits[at]!;
      if (byte === 0) continue;
      for (let bit = 0; bit < 8; bit++) if ((byte & (1 << bit)) !== 0) yield at * 8 + bit;
    }
  }
}
