import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import bencodeCodec from 'bencode';
import { buildSegmentTorrent } from '../../src/cas/segmentTorrent.ts';

const sha1 = (bytes: Uint8Array): Buffer => createHash('sha1').update(bytes).digest();

interface ParsedTorrent {
  infoHash: string;
  name: string;
  length: number;
  pieceLength: number;
  lastPieceLength: number;
  pieces: string[];
  private: boolean;
  announce: string[];
}

/** parse-torrent ships no types; a computed specifier keeps the compiler from looking for them. */
async function parseTorrent(torrentFile: Buffer): Promise<ParsedTorrent> {
  const specifier: string = 'parse-torrent';
  const module = (await import(specifier)) as { default: (input: Buffer) => Promise<ParsedTorrent> };
  return module.default(torrentFile);
}

describe('buildSegmentTorrent', () => {
  const pieceLength = 16 * 1024;
  const pieces = [Buffer.alloc(pieceLength, 1), Buffer.alloc(pieceLength, 2), Buffer.alloc(1000, 3)];
  const input = { name: 'transfer-1.segment-0', pieceLength, length: 2 * pieceLength + 1000, sha1: pieces.map(sha1) };

  it('writes a private single-file v1 torrent whose info hash is the SHA-1 of the bencoded info', async () => {
    const { infoHash, torrentFile, info: published } = buildSegmentTorrent(input);
    const info = Buffer.from(bencodeCodec.encode({ length: input.length, name: input.name, 'piece length': pieceLength, pieces: Buffer.concat(input.sha1), private: 1 }));
    assert.deepEqual(published, info);
    assert.equal(infoHash, sha1(info).toString('hex'));
    assert.ok(torrentFile.includes(info));
    const parsed = await parseTorrent(torrentFile);
    assert.equal(parsed.infoHash, infoHash);
    assert.equal(parsed.name, input.name);
    assert.equal(parsed.length, input.length);
    assert.equal(parsed.pieceLength, pieceLength);
    assert.equal(parsed.lastPieceLength, 1000);
    assert.deepEqual(parsed.pieces, input.sha1.map((digest) => digest.toString('hex')));
    assert.equal(parsed.private, true);
    assert.deepEqual(parsed.announce, []);
  });

  it('adds the announce URLs without changing the info hash', async () => {
    const announce = ['https://tracker.fleet.internal/announce', 'https://tracker-2.fleet.internal/announce'];
    const withTrackers = buildSegmentTorrent({ ...input, announce });
    assert.equal(withTrackers.infoHash, buildSegmentTorrent(input).infoHash);
    assert.deepEqual((await parseTorrent(withTrackers.torrentFile)).announce, announce);
  });

  it('refuses inconsistent input', () => {
    assert.throws(() => buildSegmentTorrent({ ...input, sha1: input.sha1.slice(1) }), /make 3 pieces/);
    assert.throws(() => buildSegmentTorrent({ ...input, pieceLength: 3 * 8192 }), /power of two/);
    assert.throws(() => buildSegmentTorrent({ ...input, pieceLength: 8192, length: 8192 }), /at least 16384/);
    assert.throws(() => buildSegmentTorrent({ ...input, length: 0, sha1: [] }), /positive/);
    assert.throws(() => buildSegmentTorrent({ ...input, sha1: [Buffer.alloc(19), ...input.sha1.slice(1)] }), /not 20/);
    assert.throws(() => buildSegmentTorrent({ ...input, name: '../x' }), /plain name/);
    assert.throws(() => buildSegmentTorrent({ ...input, name: '' }), /plain name/);
  });
});
