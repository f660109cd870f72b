import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import Wire from 'bittorrent-protocol';
import type { Wire as EngineWire } from 'webtorrent';
import { splitAtMessageEnd } from '../../src/engine/splitAtMessageEnd.ts';

const infoHash = 'ab'.repeat(20);
const blockBytes = 16 * 1024;

/** The bytes a peer sends: a handshake, then `blocks` piece messages of 16 KiB. */
async function peerBytes(blocks: number): Promise<Buffer> {
  const sender = new Wire();
  const sent: Buffer[] = [];
  sender.on('data', (chunk: Uint8Array) => sent.push(Buffer.from(chunk)));
  sender.handshake(infoHash, 'cd'.repeat(20), { dht: false });
  for (let block = 0; block < blocks; block++) (sender as unknown as { piece(i: number, o: number, b: Uint8Array): void }).piece(block >> 2, (block & 3) * blockBytes, randomBytes(blockBytes));
  await new Promise((resolve) => setImmediate(resolve));
  return Buffer.concat(sent);
}

/** Feeds `bytes` to a receiving wire in reads of `readBytes`; returns the blocks it parsed and the reads. */
function receive(bytes: Buffer, readBytes: number, split: boolean) {
  const receiver = new Wire();
  if (split) splitAtMessageEnd(receiver as unknown as EngineWire);
  const pieces: { index: number; offset: number; sha256: string; block: Uint8Array }[] = [];
  receiver.on('piece', (index: number, offset: number, block: Uint8Array) => pieces.push({ index, offset, sha256: createHash('sha256').update(block).digest('hex'), block }));
  const reads: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += readBytes) {
    // Each read its own allocation, as a socket delivers them.
    const read = new Uint8Array(bytes.subarray(at, at + readBytes));
    reads.push(read);
    (receiver as unknown as EngineWire)._write(read, (error) => assert.ifError(error));
  }
  return { pieces, reads };
}

describe('splitAtMessageEnd', () => {
  it('parses the same messages whatever the reads, copying only a message that spans two reads', async () => {
    const bytes = await peerBytes(32);
    for (const readBytes of [65_536, 7_001, 16_397, 100_000]) {
      const plain = receive(bytes, readBytes, false);
      const split = receive(bytes, readBytes, true);
      assert.equal(split.pieces.length, 32, `every block parsed at reads of ${readBytes} B`);
      assert.deepEqual(split.pieces.map(({ block: _, ...piece }) => piece), plain.pieces.map(({ block: _, ...piece }) => piece));
      const inPlace = split.pieces.filter(({ block }) => split.reads.some((read) => read.buffer === block.buffer)).length;
      const spanning = split.pieces.length - inPlace;
      // A read of R bytes ends inside at most one message, so at most one block per read is copied.
      assert.ok(spanning <= split.reads.length, `${spanning} blocks copied for ${split.reads.length} reads of ${readBytes} B`);
      if (readBytes > 2 * blockBytes) assert.ok(inPlace >= split.pieces.length / 2, `${inPlace} of 32 blocks parsed in place at reads of ${readBytes} B`);
    }
  });
});
