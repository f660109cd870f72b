import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { pino } from 'pino';
import { ContentStore } from '../../src/cas/contentStore.ts';
import { buildSegmentTorrent } from '../../src/cas/segmentTorrent.ts';
import { createTorrentEngine, pieceBufferStats, type TorrentEngine } from '../../src/engine/torrentEngine.ts';
import { waitFor } from '../helpers/waitFor.ts';

const pieceLength = 256 * 1024;
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const sha1 = (bytes: Uint8Array): Buffer => createHash('sha1').update(bytes).digest();

describe('buffers reused across pieces and read-ahead windows', () => {
  let base: string;
  const engines: TorrentEngine[] = [];
  const logger = pino({ level: 'silent' });
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'piece-buffers-'));
  });
  after(async () => {
    for (const engine of engines) await engine.destroy();
    await rm(base, { recursive: true, force: true });
  });

  it('serves and stores every piece with its own bytes when each buffer holds one piece after another', async () => {
    // Random bytes: a buffer reused too early would leave a piece with another's bytes.
    const pieces = Array.from({ length: 48 }, () => randomBytes(pieceLength));
    const { infoHash, torrentFile } = buildSegmentTorrent({ name: 'transfer-buffers.segment-0', pieceLength, length: 48 * pieceLength, sha1: pieces.map(sha1) });
    const segment = { infoHash, torrentFile, pieceSha256: pieces.map(sha256) };
    const seederCas = await ContentStore.open(join(base, 'seeder'));
    for (const piece of pieces) await seederCas.putChunk(sha256(piece), piece);
    const leecherCas = await ContentStore.open(join(base, 'leecher'));
    // A slow disk: each write starts 20 ms late, while later pieces arrive. A buffer handed back
    // before its write is done would by then hold another piece's blocks.
    const write = leecherCas.putVerifiedChunk.bind(leecherCas);
    leecherCas.putVerifiedChunk = async (chunk) => {
      await delay(20);
      return write(chunk);
    };
    // 2 MiB of read-ahead for 12 MiB served: its windows are evicted and read into again.
    const seeder = createTorrentEngine({ cas: seederCas, logger, readAheadBytes: 2 * 1024 * 1024 });
    // Four pieces assembling and four waiting for the disk at most: buffers must come back to be used again.
    const leecher = createTorrentEngine({ cas: leecherCas, logger, maxPiecesInFlightBytes: 4 * pieceLength, maxPendingWriteBytes: 4 * pieceLength });
    engines.push(seeder, leecher);
    await waitFor('both engines to listen', () => seeder.port > 0 && leecher.port > 0);
    await (await seeder.addSegment(segment)).done;
    const before = pieceBufferStats();
    const download = await leecher.addSegment(segment);
    download.addPeer(`127.0.0.1:${seeder.port}`);
    await download.done;

    const stats = pieceBufferStats();
    assert.ok(stats.taken - before.taken >= 48, 'every piece took a buffer');
    assert.ok(stats.reused - before.reused >= 24, `buffers reused: ${stats.reused - before.reused} of ${stats.taken - before.taken}`);
    assert.ok(seeder.readAheadStats().reused > 0, `read-ahead windows reused: ${JSON.stringify(seeder.readAheadStats())}`);
    assert.equal(leecher.failedPieces(), 0, 'no piece arrived with bytes of another');
    for (const [index, piece] of pieces.entries()) assert.equal(sha256(await leecherCas.readChunk(sha256(piece))), sha256(piece), `piece ${index}`);
  });
});
