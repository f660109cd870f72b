import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ContentStore } from '../../src/cas/contentStore.ts';
import { buildSegmentTorrent } from '../../src/cas/segmentTorrent.ts';
import { createTorrentEngine, type AddSegmentOptions, type TorrentEngine } from '../../src/engine/torrentEngine.ts';
import type { Locality } from '../../src/locality.ts';
import { waitFor } from '../helpers/waitFor.ts';

const pieceLength = 64 * 1024;
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const sha1 = (bytes: Uint8Array): Buffer => createHash('sha1').update(bytes).digest();

/** 48 pieces of 64 KiB, each different. */
const pieces = Array.from({ length: 48 }, (_, index) => Buffer.from(Array.from({ length: pieceLength }, (_, at) => (at * 167 + index * 31 + (at >> 8)) & 0xff)));
const segmentBytes = pieces.length * pieceLength;
const { infoHash, torrentFile } = buildSegmentTorrent({ name: 'transfer-racks.segment-0', pieceLength, length: segmentBytes, sha1: pieces.map(sha1) });
const segment: AddSegmentOptions = { infoHash, torrentFile, pieceSha256: pieces.map(sha256) };

/**
 * Two racks on loopback: the seed and one leecher in r1, two leechers in r2, every engine
 * connected to every other. What crosses between the racks is what each engine fetched from
 * peers it places in the other rack.
 */
describe('engines in two racks', () => {
  let base: string;
  const engines: TorrentEngine[] = [];
  const logger = pino({ level: 'silent' });

  const newEngine = async (name: string, locality: Locality): Promise<TorrentEngine> => {
    const cas = await ContentStore.open(join(base, name));
    if (name.startsWith('seed')) for (const piece of pieces) await cas.putChunk(sha256(piece), piece);
    const engine = createTorrentEngine({ cas, logger: logger.child({ engine: name }), locality });
    engines.push(engine);
    await waitFor(`${name} to listen`, () => engine.port > 0);
    return engine;
  };

  const address = (engine: TorrentEngine): string => `127.0.0.1:${engine.port}`;

  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'engine-racks-'));
  });
  after(async () => {
    for (const engine of engines) await engine.destroy();
    await rm(base, { recursive: true, force: true });
  });

  it('brings each piece into a rack about once: the seed feeds its rack, the other rack deals the pieces among its members', async () => {
    const seed = await newEngine('seed', { zone: 'z', rack: 'r1' });
    const a = await newEngine('a', { zone: 'z', rack: 'r1' });
    const b1 = await newEngine('b1', { zone: 'z', rack: 'r2' });
    const b2 = await newEngine('b2', { zone: 'z', rack: 'r2' });
    await (await seed.addSegment(segment)).done;

    const handleA = await a.addSegment(segment);
    handleA.addPeer(address(seed));
    // Placed before the other rack arrives: a far peer is offered fresh pieces only while no rack-mate is on the segment.
    await waitFor('the seed to serve a', () => a.totals().downloaded > 0);
    const handles = [handleA, await b1.addSegment(segment), await b2.addSegment(segment)];
    handles[1]!.addPeer(address(seed));
    handles[1]!.addPeer(address(a));
    handles[2]!.addPeer(address(seed));
    handles[2]!.addPeer(address(a));
    handles[2]!.addPeer(address(b1));
    await waitFor('every leecher to finish', async () => (await Promise.all(handles.map((handle) => handle.done))).length === 3, 30_000);

    const intoR2 = b1.totals().downloadedFromOtherRacks + b2.totals().downloadedFromOtherRacks;
    assert.ok(intoR2 >= segmentBytes, 'r2 needed every piece from outside once');
    assert.ok(intoR2 <= 1.1 * segmentBytes, `into r2: ${(intoR2 / segmentBytes).toFixed(2)} F (at most 1.1 F)`);
    assert.equal(a.totals().downloadedFromOtherRacks, 0, 'a got every piece within its rack');
    assert.ok(b1.totals().downloaded - b1.totals().downloadedFromOtherRacks > 0 && b2.totals().downloaded - b2.totals().downloadedFromOtherRacks > 0, 'each b got pieces from its rack-mate');
    assert.ok(seed.totals().uploaded <= 1.1 * segmentBytes, `the seed uploaded ${(seed.totals().uploaded / segmentBytes).toFixed(2)} F: each piece about once`);
  });

  it('gives its rack-mate what it gave the other rack before the rack-mate came, instead of letting it fetch that from there', async () => {
    const other = buildSegmentTorrent({ name: 'transfer-racks.segment-1', pieceLength, length: segmentBytes, sha1: pieces.map(sha1) });
    const second: AddSegmentOptions = { ...segment, infoHash: other.infoHash, torrentFile: other.torrentFile };
    const seed = await newEngine('seed-2', { zone: 'z', rack: 'r1' });
    const a = await newEngine('a-2', { zone: 'z', rack: 'r1' });
    const b = await newEngine('b-2', { zone: 'z', rack: 'r2' });
    await (await seed.addSegment(second)).done;
    const handleB = await b.addSegment(second);
    handleB.addPeer(address(seed));
    await waitFor('the seed to serve b first', () => b.totals().downloaded > 0);
    const handleA = await a.addSegment(second);
    handleA.addPeer(address(seed));
    handleA.addPeer(address(b));
    await waitFor('both to finish', async () => (await Promise.all([handleA.done, handleB.done])).length === 2, 30_000);
    assert.equal(a.totals().downloadedFromOtherRacks, 0, 'a got every piece within its rack');
    assert.ok(b.totals().downloadedFromOtherRacks <= 1.1 * segmentBytes, `into r2: ${(b.totals().downloadedFromOtherRacks / segmentBytes).toFixed(2)} F`);
  });
});
