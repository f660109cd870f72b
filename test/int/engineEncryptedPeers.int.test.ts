import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import WebTorrent, { type Torrent } from 'webtorrent';
import { ContentStore } from '../../src/cas/contentStore.ts';
import { buildSegmentTorrent } from '../../src/cas/segmentTorrent.ts';
import { createTorrentEngine, privateSwarmOptions, type TorrentEngine } from '../../src/engine/torrentEngine.ts';
import { waitFor } from '../helpers/waitFor.ts';

const pieceLength = 64 * 1024;
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const sha1 = (bytes: Uint8Array): Buffer => createHash('sha1').update(bytes).digest();

/** What bittorrent-protocol's wire tells of its protocol encryption (MSE/PE). */
interface PeWire {
  readonly _cryptoHandshakeDone: boolean;
  readonly _encryptionMethod: number | undefined;
}

/**
 * A stock client of another make dials with protocol encryption by default (webtorrent's secure: 1,
 * like libtorrent's and Transmission's). The engine must answer it at once; it dials plaintext
 * itself. Neither side learns the other from a tracker here: only the dialler's own connection can
 * carry the pieces, so a handshake refused shows as a download that never ends.
 */
describe('an engine and stock clients that dial with and without protocol encryption', { timeout: 20_000 }, () => {
  let base: string;
  const engines: TorrentEngine[] = [];
  const clients: WebTorrent[] = [];
  const logger = pino({ level: 'silent' });
  const pieces = Array.from({ length: 12 }, () => randomBytes(pieceLength));
  const artifact = Buffer.concat(pieces);
  const name = 'transfer-pe.segment-0';
  const { infoHash, torrentFile } = buildSegmentTorrent({ name, pieceLength, length: artifact.length, sha1: pieces.map(sha1) });
  const segment = { infoHash, torrentFile, pieceSha256: pieces.map(sha256) };

  after(async () => {
    for (const engine of engines) await engine.destroy();
    for (const client of clients) await new Promise<void>((resolve) => client.destroy(() => resolve()));
    await rm(base, { recursive: true, force: true });
  });

  const listening = (engine: TorrentEngine): Promise<number> => waitFor('the engine to listen', () => engine.port > 0 && engine.port);
  const stockClient = (secure: 0 | 1 | 2): WebTorrent => {
    const client = new WebTorrent({ ...privateSwarmOptions, tracker: false, secure });
    clients.push(client);
    return client;
  };
  const finished = (torrent: Torrent): Promise<void> =>
    new Promise((resolve, reject) => {
      torrent.once('done', () => resolve());
      torrent.once('error', reject);
    });

  let port: number;
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'engine-pe-'));
    const cas = await ContentStore.open(join(base, 'seeder'));
    for (const piece of pieces) await cas.putChunk(sha256(piece), piece);
    const seeder = createTorrentEngine({ cas, logger });
    engines.push(seeder);
    port = await listening(seeder);
    await (await seeder.addSegment(segment)).done;
  });

  // secure: 1 is webtorrent's default: an encrypted handshake, then plaintext if the answer allows.
  // secure: 2 takes RC4 only (in JavaScript here, with a warning: no native RC4 in node's OpenSSL 3).
  // MSE's crypto_select: 1 plaintext after the handshake, 2 RC4.
  const cases = [
    { secure: 1, method: 1, what: 'a PE handshake, as stock clients do by default' },
    { secure: 2, method: 2, what: 'PE and RC4 only' },
  ] as const;
  for (const { secure, method, what } of cases) {
    it(`serves a stock client that dials with ${what}`, async () => {
      const download = stockClient(secure).add(torrentFile, { path: join(base, `stock-${secure}`) });
      await new Promise((resolve) => download.once('infoHash', resolve));
      download.addPeer(`127.0.0.1:${port}`);
      // A handshake refused would otherwise show only as the suite's timeout.
      const wire = await waitFor('the engine to answer the handshake', () => (download.wires as unknown as PeWire[]).find((each) => each._cryptoHandshakeDone), 5_000);
      assert.equal(wire._encryptionMethod, method);
      await finished(download);
      assert.ok((await readFile(join(base, `stock-${secure}`, name))).equals(artifact));
    });
  }

  it('dials a stock seeder that speaks plaintext only, and fetches every piece from it', async () => {
    // The segment's file in place: the stock client checks it and seeds it.
    const path = join(base, 'stock-plain');
    await mkdir(path);
    await writeFile(join(path, name), artifact);
    const client = stockClient(0);
    await finished(client.add(torrentFile, { path }));
    const seedingPort = await waitFor('the stock client to listen', () => client.torrentPort > 0 && client.torrentPort);

    const cas = await ContentStore.open(join(base, 'leecher'));
    const leecher = createTorrentEngine({ cas, logger });
    engines.push(leecher);
    await listening(leecher);
    const fetch = await leecher.addSegment(segment);
    fetch.addPeer(`127.0.0.1:${seedingPort}`);
    await fetch.done;
    for (const [index, piece] of pieces.entries()) assert.ok((await cas.readChunk(sha256(piece))).equals(piece), `piece ${index}`);
  });
});
