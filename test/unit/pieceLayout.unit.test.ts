import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planPieceLayout } from '../../src/origin/pieceLayout.ts';

const mib = 1024 * 1024;
const segments = (layout: ReturnType<typeof planPieceLayout>): number => Math.ceil(layout.pieceCount / layout.segmentPieces);

describe('planPieceLayout', () => {
  it('keeps sixteen segments up to 256 MiB, and never fewer than four pieces in one', () => {
    assert.deepEqual(planPieceLayout(128 * mib), { totalBytes: 128 * mib, pieceLength: mib / 2, pieceCount: 256, segmentPieces: 16 });
    assert.equal(segments(planPieceLayout(256 * mib)), 16);
    assert.equal(segments(planPieceLayout(12 * mib)), 3);
  });

  it('makes no segment smaller than 4 MiB but the last, as when pieces were 1 MiB', () => {
    assert.deepEqual(planPieceLayout(5 * mib + 99), { totalBytes: 5 * mib + 99, pieceLength: mib / 4, pieceCount: 21, segmentPieces: 16 });
    assert.equal(segments(planPieceLayout(24 * mib)), 6);
    assert.equal(segments(planPieceLayout(64 * mib)), 16);
  });

  it('cuts each segment into sixteen pieces, none smaller than 256 KiB nor larger than 64 MiB', () => {
    assert.equal(planPieceLayout(256 * mib).pieceLength, mib);
    assert.equal(planPieceLayout(1024 * mib).segmentPieces, 16);
    assert.equal(planPieceLayout(12 * mib).pieceLength, mib / 4);
    assert.equal(planPieceLayout(1).pieceLength, mib / 4);
    assert.equal(planPieceLayout(200 * 1024 * mib).pieceLength, 64 * mib);
  });

  it('keeps about a thousand pieces from 1 GiB up to 64 GiB (DESIGN §5)', () => {
    for (const gib of [1, 2, 5, 16, 64]) {
      const { pieceCount } = planPieceLayout(gib * 1024 * mib);
      assert.ok(pieceCount >= 640 && pieceCount <= 1280, `${gib} GiB: ${pieceCount} pieces`);
    }
  });

  it('takes the piece length when given one', () => {
    assert.deepEqual(planPieceLayout(12 * mib, { minPieceLength: mib, maxPieceLength: mib }), { totalBytes: 12 * mib, pieceLength: mib, pieceCount: 12, segmentPieces: 4 });
  });

  it('cuts larger artifacts into segments of about 16 MiB, up to sixty-four of them', () => {
    const gib = planPieceLayout(1024 * mib);
    assert.equal(gib.pieceLength, mib);
    assert.equal(segments(gib), 64);
    assert.equal(gib.segmentPieces * gib.pieceLength, 16 * mib);
    assert.equal(segments(planPieceLayout(512 * mib)), 32);
    const large = planPieceLayout(70 * 1024 * mib);
    assert.equal(large.pieceLength, 64 * mib);
    assert.ok(segments(large) <= 64 && segments(large) >= 60, `${segments(large)} segments`);
  });

  it('takes a segment count when given one', () => {
    assert.equal(segments(planPieceLayout(1024 * mib, { targetSegments: 16 })), 16);
  });
});
