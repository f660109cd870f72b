import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bencode from 'bencode';
import WebTorrent from 'webtorrent';
import { privateSwarmOptions } from '../../src/engine/torrentEngine.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { createMagnetOrigin } from '../../src/origin/magnetOrigin.ts';
import { readStreamRange } from '../../src/origin/origin.ts';
import { sanitizeTorrentPaths } from '../../src/origin/sanitizeTorrentPath.ts';

const pieceLength = 16 * 1024;
const sha1 = (bytes: Uint8Array): Buffer => createHash('sha1').update(bytes).digest();

/** memory-chunk-store ships no types; a computed specifier keeps the compiler from looking. */
async function memoryStore(): Promise<new (chunkLength: number, options?: unknown) => { put(index: number, buf: Buffer, cb: (error: Error | null) => void): void }> {
  const specifier: string = 'memory-chunk-store';
  return ((await import(specifier)) as { default: never }).default;
}

describe('magnet origin: a foreign swarm read once, with its file names made safe', () => {
  let work: string;
  let seeder: WebTorrent;
  const content = randomBytes(100 * 1024 + 150 * 1024 + 50 * 1024);
  // A crafted torrent: its name and paths try to climb out of wherever a client writes.
  const info = {
    name: Buffer.from('../escape'),
    'piece length': pieceLength,
    files: [
      { length: 100 * 1024, path: [Buffer.from('..'), Buffer.from('..'), Buffer.from('evil.txt')] },
      { length: 150 * 1024, path: [Buffer.from('sub'), Buffer.from('ok.bin')] },
      { length: 50 * 1024, path: [Buffer.from('a\\..\\b')] },
    ],
    pieces: Buffer.concat(Array.from({ length: Math.ceil(content.length / pieceLength) }, (_, i) => sha1(content.subarray(i * pieceLength, (i + 1) * pieceLength)))),
  };
  const torrentFile = Buffer.from(bencode.encode({ info }));
  const infoHash = sha1(bencode.encode(info)).toString('hex');
  let magnet: string;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'te-magnet-'));
    const MemoryChunkStore = await memoryStore();
    const store = new MemoryChunkStore(pieceLength, { length: content.length });
    for (let i = 0; i * pieceLength < content.length; i++) {
      await new Promise<void>((resolve, reject) => store.put(i, content.subarray(i * pieceLength, (i + 1) * pieceLength), (error) => (error ? reject(error) : resolve())));
    }
    seeder = new WebTorrent({ ...privateSwarmOptions, tracker: false });
    await new Promise<void>((resolve) => seeder.add(torrentFile, { preloadedStore: store, skipVerify: true } as never, () => resolve()));
    await new Promise<void>((resolve) => (seeder.torrentPort > 0 ? resolve() : seeder.once('listening', () => resolve())));
    magnet = `magnet:?xt=urn:btih:${infoHash}&x.pe=127.0.0.1:${seeder.torrentPort}`;
  });

  after(async () => {
    await new Promise<void>((resolve) => seeder.destroy(() => resolve()));
    await rm(work, { recursive: true, force: true });
  });

  it('fetches and verifies the pieces, lists safe paths, and reads the same bytes', async () => {
    const staging = join(work, 'staging');
    const origin = createMagnetOrigin(magnet, { stagingDir: staging, logger: silentLogger(), timeoutMs: 30_000 });
    try {
      const { files } = await origin.describe();
      assert.equal(files.reduce((sum, file) => sum + file.length, 0), content.length);
      for (const file of files) assert.ok(!file.path.split('/').includes('..') && !file.path.startsWith('/') && !file.path.includes('\\'), file.path);
      assert.deepEqual(await readStreamRange(origin, files, 0, content.length), content);
      // Only the staging file was written: no file under the work dir but staging/, and none named after the torrent.
      assert.deepEqual(await readdir(work), ['staging']);
      assert.deepEqual(await readdir(staging), [`magnet-${infoHash}.bin`]);
    } finally {
      await origin.close();
    }
    assert.deepEqual(await readdir(staging), [], 'close removes the staging file');
  });

  it('sanitizes names: no empty, dot or dot-dot segment, no backslash, unique', () => {
    assert.deepEqual(sanitizeTorrentPaths(['../../evil.txt', '/abs/x', 'a\\..\\b', '..', 'x', 'x', 'c:/d']), ['evil.txt', 'abs/x', 'a_.._b', 'file-3', 'x', 'x (2)', 'c_/d']);
  });
});
