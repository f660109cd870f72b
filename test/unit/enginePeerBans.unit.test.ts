import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createPeerBans } from '../../src/engine/peerBans.ts';

const sha1Hex = (bytes: Uint8Array): string => createHash('sha1').update(bytes).digest('hex');
const blockOf = (fill: number): Buffer => Buffer.alloc(4, fill);

describe('peer bans', () => {
  it('strikes the sole sender of a failed piece at once, without block digests', () => {
    const bans = createPeerBans({ maxStrikes: 2 });
    for (let round = 0; round < 2; round++) {
      bans.blockReceived('t', 0, { offset: 0, peerId: 'rogue', bytes: blockOf(1) }, 8);
      bans.blockReceived('t', 0, { offset: 4, peerId: 'rogue', bytes: blockOf(2) }, 8);
      assert.deepEqual(bans.pieceFailed('t', 0), round === 0 ? [] : ['rogue']);
    }
    assert.equal(bans.isBanned('rogue'), true);
    assert.deepEqual(bans.pieceVerified('t', 0), [], 'nothing was kept for comparison');
  });

  it('keeps digests of a mixed failed piece for the comparison with the verified one, and ignores blocks after the piece was whole', () => {
    const bans = createPeerBans({ maxStrikes: 1 });
    bans.blockReceived('t', 3, { offset: 0, peerId: 'honest', bytes: blockOf(1) }, 8);
    bans.blockReceived('t', 3, { offset: 4, peerId: 'rogue', bytes: blockOf(9) }, 8);
    bans.blockReceived('t', 3, { offset: 4, peerId: 'late', bytes: blockOf(2) }, 8);
    assert.deepEqual(bans.pieceFailed('t', 3), [], 'mixed senders wait for the good piece');
    bans.blockReceived('t', 3, { offset: 0, peerId: 'honest', bytes: blockOf(1) }, 8);
    bans.blockReceived('t', 3, { offset: 4, peerId: 'honest', bytes: blockOf(2) }, 8);
    const suspects = bans.pieceVerified('t', 3);
    assert.deepEqual(suspects, [
      { offset: 0, length: 4, peerId: 'honest', digest: sha1Hex(blockOf(1)) },
      { offset: 4, length: 4, peerId: 'rogue', digest: sha1Hex(blockOf(9)) },
    ]);
    const good = Buffer.concat([blockOf(1), blockOf(2)]);
    assert.deepEqual(bans.blocksLied(suspects, good), ['rogue']);
  });

  it("credits an endgame duplicate with the bytes its sender sent, not with the piece's copy from another peer", () => {
    const bans = createPeerBans({ maxStrikes: 1 });
    const pieceCopy = blockOf(9); // what the piece took at offset 4: the rogue's block
    bans.blockReceived('t', 5, { offset: 4, peerId: 'rogue', bytes: blockOf(9), held: pieceCopy }, 8);
    bans.blockReceived('t', 5, { offset: 4, peerId: 'honest', bytes: blockOf(2), held: pieceCopy }, 8);
    bans.blockReceived('t', 5, { offset: 0, peerId: 'honest', bytes: blockOf(1), held: blockOf(1) }, 8);
    assert.deepEqual(bans.pieceFailed('t', 5), []);
    const good = Buffer.concat([blockOf(1), blockOf(2)]);
    assert.deepEqual(bans.blocksLied(bans.pieceVerified('t', 5), good), ['rogue']);
  });
});
