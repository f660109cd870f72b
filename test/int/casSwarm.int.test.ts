import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { access, mkdtemp, readdir, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { ChunkDigestMismatchError } from '../../src/cas/casErrors.ts';
import { CasChunkStore, type CasChunkStoreOptions } from '../../src/cas/casChunkStore.ts';
import { createCasMetrics } from '../../src/cas/casMetrics.ts';
import { ContentStore } from '../../src/cas/contentStore.ts';
import { buildSegmentTorrent, chunkSha1 } from '../../src/cas/segmentTorrent.ts';
import { verifiedBitfield } from '../../src/cas/verifiedBitfield.ts';
import { waitFor } from '../helpers/waitFor.ts';

/** The little of webtorrent 3 this test drives; the package ships no types. */
interface Torrent {
  infoHash: string;
  done: boolean;
  ready: boolean;
  /** Per connected peer; `downloaded` counts piece payload only (torrent.received counts protocol bytes too). */
  wires: Array<{ downloaded: number }>;
  numPeers: number;
  addPeer(address: string): boolean;
  on(event: 'error' | 'warning', listener: (error: Error) => void): void;
  once(event: 'error', listener: (error: Error) => void): void;
}
interface Client {
  torrentPort: number;
  listening: boolean;
  add(torrentId: Buffer, opts: Record<string, unknown>): Torrent;
  destroy(cb: (error?: Error) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
}
type ClientClass = new (opts: Record<string, unknown>) => Client;

/** Invariant 9, and loopback only: nothing but the peers the test adds. */
const privateSwarm = { dht: false, lsd: false, tracker: false, utp: false, utPex: false, natUpnp: false, natPmp: false, webSeeds: false };

const pieceLength = 16 * 1024;
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** An artifact of 20 pieces, the last one short; the segment under test is global pieces [9, 20),
 * so webtorrent piece i is global piece 9 + i and the segment ends with the short piece. */
const artifactPieces = Array.from({ length: 20 }, (_, index) =>
  Buffer.from(Array.from({ length: index === 19 ? 5000 : pieceLength }, (_, at) => (at * 131 + index * 17) & 0xff)),
);
const firstPiece = 9;
const segmentPieces = artifactPieces.slice(firstPiece, firstPiece + 11);
const segmentSha256 = segmentPieces.map(sha256);
const segmentLength = segmentPieces.reduce((sum, piece) => sum + piece.length, 0);

describe('CasChunkStore in a two-client loopback swarm', () => {
  let WebTorrent: ClientClass;
  let base: string;
  let casA: ContentStore;
  let casB: ContentStore;
  let torrentFile: Buffer;
  let registryA: Registry;
  const clients: Client[] = [];

  const newClient = (): Client => {
    const client = new WebTorrent(privateSwarm);
    client.on('error', (error) => assert.fail(error));
    clients.push(client);
    return client;
  };
  const destroyClient = (client: Client) =>
    new Promise<void>((resolve, reject) => client.destroy((error) => (error ? reject(error) : resolve())));
  const storeOpts = (cas: ContentStore, onStored?: CasChunkStoreOptions['onStored']): CasChunkStoreOptions => ({ cas, pieceSha256: segmentSha256, onStored });

  before(async () => {
    const specifier: string = 'webtorrent';
    WebTorrent = ((await import(specifier)) as { default: ClientClass }).default;
    base = await mkdtemp(join(tmpdir(), 'cas-swarm-'));
    registryA = new Registry();
    casA = await ContentStore.open(join(base, 'cas-a'), { metrics: createCasMetrics(registryA) });
    casB = await ContentStore.open(join(base, 'cas-b'));
    for (const piece of artifactPieces) await casA.putChunk(sha256(piece), piece);
    const sha1 = await chunkSha1(casA, segmentSha256);
    ({ torrentFile } = buildSegmentTorrent({ name: 'transfer-1.segment-1', pieceLength, length: segmentLength, sha1 }));
  });
  after(async () => {
    for (const client of clients) await destroyClient(client);
    await rm(base, { recursive: true, force: true });
  });

  let seeder: Client;

  it('A seeds from its CAS without re-hashing; B downloads into its own CAS; both hold identical chunks', async () => {
    const hitsBefore = await chunkHits(registryA);
    seeder = newClient();
    // skipVerify: the CAS only holds SHA-256-verified chunks, so webtorrent need not read and SHA-1 them all.
    // storeCacheSlots 0: no LRU of whole pieces in memory; requests read their 16 KiB block from disk.
    const seeding = seeder.add(torrentFile, { store: CasChunkStore, storeOpts: storeOpts(casA), skipVerify: true, storeCacheSlots: 0, path: join(base, 'webtorrent-path') });
    await waitFor('A to be ready and listening', () => seeding.ready && seeder.listening && seeder.torrentPort > 0);
    assert.equal(seeding.done, true);
    assert.equal(await chunkHits(registryA), hitsBefore, 'A read no chunk to start seeding');

    const downloader = newClient();
    const stored: number[] = [];
    const leeching = downloader.add(torrentFile, { store: CasChunkStore, storeOpts: storeOpts(casB, (index) => stored.push(index)), storeCacheSlots: 0, path: join(base, 'webtorrent-path') });
    leeching.on('warning', (error) => assert.fail(error));
    await waitFor('B to be ready', () => leeching.ready);
    leeching.addPeer(`127.0.0.1:${seeder.torrentPort}`);
    await waitFor('B to finish the segment', () => leeching.done, 20_000);

    assert.deepEqual(stored.toSorted((a, b) => a - b), segmentPieces.map((_, index) => index));
    assert.equal(pieceBytesReceived(leeching), segmentLength);
    for (const [index, digest] of segmentSha256.entries()) assert.deepEqual(await casB.readChunk(digest), segmentPieces[index], `piece ${index}`);
    assert.deepEqual(await chunkFiles(casB), segmentSha256.toSorted());
    for (const digest of await chunkFiles(casB)) assert.deepEqual(await casB.readChunk(digest), await casA.readChunk(digest));
    await assert.rejects(access(join(base, 'webtorrent-path')), { code: 'ENOENT' }, 'webtorrent wrote nothing under its own path');
    await destroyClient(downloader);
    clients.splice(clients.indexOf(downloader), 1);
    assert.equal(await casB.hasChunk(segmentSha256[0]!), true, 'destroying the torrent kept the CAS content');
  });

  it('B restarted with the bitfield from its CAS downloads only what it lacks', async () => {
    // A crash mid-download, as far as the CAS can tell: three pieces never arrived.
    const lost = [0, 6, 10];
    for (const index of lost) await unlink(join(casB.root, 'chunks', segmentSha256[index]!.slice(0, 2), segmentSha256[index]!));
    const bitfield = await verifiedBitfield(casB, segmentSha256);

    const restarted = newClient();
    const stored: number[] = [];
    // preloadedStore works as well as store + storeOpts; the bitfield makes webtorrent trust the
    // pieces it marks (it SHA-1-checks one marked piece per file) and request only the others.
    const resumed = restarted.add(torrentFile, { preloadedStore: new CasChunkStore(pieceLength, storeOpts(casB, (index) => stored.push(index))), bitfield, storeCacheSlots: 0 });
    await waitFor('B to be ready again', () => resumed.ready);
    assert.equal(resumed.done, false);
    resumed.addPeer(`127.0.0.1:${seeder.torrentPort}`);
    await waitFor('B to finish again', () => resumed.done, 20_000);
    assert.deepEqual(stored.toSorted((a, b) => a - b), lost);
    assert.equal(pieceBytesReceived(resumed), lost.reduce((sum, index) => sum + segmentPieces[index]!.length, 0));
    await destroyClient(restarted);
    clients.splice(clients.indexOf(restarted), 1);
  });

  it('B restarted with a complete CAS downloads nothing, even with the seeder connected', async () => {
    const bitfield = await verifiedBitfield(casB, segmentSha256);
    const restarted = newClient();
    const stored: number[] = [];
    const resumed = restarted.add(torrentFile, { store: CasChunkStore, storeOpts: storeOpts(casB, (index) => stored.push(index)), bitfield, storeCacheSlots: 0 });
    await waitFor('B to be ready and done', () => resumed.ready && resumed.done);
    resumed.addPeer(`127.0.0.1:${seeder.torrentPort}`);
    await waitFor('B to connect to A', () => resumed.numPeers === 1);
    assert.equal(pieceBytesReceived(resumed), 0);
    assert.deepEqual(stored, []);
  });

  it('a piece that passes SHA-1 but not the manifest SHA-256 is not stored, and fails the torrent', async () => {
    const casC = await ContentStore.open(join(base, 'cas-c'));
    // The manifest and the torrent disagree about piece 3: only SHA-256 can tell.
    const manifest = segmentSha256.with(3, sha256(Buffer.from('what the manifest expects')));
    const client = newClient();
    const torrent = client.add(torrentFile, { store: CasChunkStore, storeOpts: { cas: casC, pieceSha256: manifest }, storeCacheSlots: 0 });
    const failure = new Promise<Error>((resolve) => torrent.once('error', resolve));
    await waitFor('C to be ready', () => torrent.ready);
    torrent.addPeer(`127.0.0.1:${seeder.torrentPort}`);
    const error = await failure;
    assert.ok(error instanceof ChunkDigestMismatchError, String(error));
    assert.equal(error.expected, manifest[3]);
    assert.equal(error.actual, segmentSha256[3]);
    assert.equal(await casC.hasChunk(manifest[3]!), false);
    assert.equal(await casC.hasChunk(segmentSha256[3]!), false);
  });
});

function pieceBytesReceived(torrent: Torrent): number {
  return torrent.wires.reduce((sum, wire) => sum + wire.downloaded, 0);
}

async function chunkHits(registry: Registry): Promise<number> {
  const metric = await registry.getSingleMetric('torrentedge_cas_hits_total')!.get();
  return metric.values[0]?.value ?? 0;
}

async function chunkFiles(cas: ContentStore): Promise<string[]> {
  const entries = await readdir(join(cas.root, 'chunks'), { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => entry.name).sort();
}
