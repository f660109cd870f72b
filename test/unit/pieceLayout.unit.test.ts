import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planPieceLayout } from '../../src/origin/pieceLayout.ts';

const mib = 1024 * 1024;
const segments = (layout: ReturnType<typeof planPieceLayout>): number => Math.ceil(layout.pieceCount / layout.segmentPieces);

describe('planPieceLayout', () => {
  it('keeps sixteen segments up to 256 MiB, and never fewer than four pieces in one', () => {
    assert.deepEqual(planPieceLayout(128 * mib), { totalBytes: 128 * mib, pieceLength: mib, pieceCount: 128, segmentPieces: 8 });
    assert.equal(segments(planPieceLayout(256 * mib)), 16);
    assert.equal(planPieceLayout(12 * mib).segmentPieces, 4);
  });

  it('cuts larger artifacts into segments of about 16 MiB, up to sixty-four of them', () => {
    const gib = planPieceLayout(1024 * mib);
    assert.equal(gib.pieceLength, 2 * mib);
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
