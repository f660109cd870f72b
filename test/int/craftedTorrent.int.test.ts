import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import bencode from 'bencode';
import MemoryChunkStore from 'memory-chunk-store';
import { pino } from 'pino';
import WebTorrent, { type Torrent } from 'webtorrent';
import { ContentStore } from '../../src/cas/contentStore.ts';
import { createTorrentEngine, privateSwarmOptions, type TorrentEngine } from '../../src/engine/torrentEngine.ts';
import { waitFor } from '../helpers/waitFor.ts';

const pieceLength = 16 * 1024;
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const sha1 = (bytes: Uint8Array): Buffer => createHash('sha1').update(bytes).digest();

/** Names a careless client would turn into paths outside its download folder. */
const files = [
  { path: ['..', '..', 'evil.txt'], length: 20_000 },
  { path: ['/abs/evil'], length: 16_384 },
  // parse-torrent prefers path.utf-8 when both are there.
  { path: ['a\\..\\b'], 'path.utf-8': ['..', '..', '..', 'escape', 'evil.txt'], length: 9_000 },
];
const content = Buffer.from(Array.from({ length: files.reduce((sum, file) => sum + file.length, 0) }, (_, at) => (at * 151 + Math.floor(at / 997)) & 0xff));
const pieces = Array.from({ length: Math.ceil(content.length / pieceLength) }, (_, index) => content.subarray(index * pieceLength, (index + 1) * pieceLength));
const info = { name: '../../escape', 'piece length': pieceLength, pieces: Buffer.concat(pieces.map(sha1)), files, private: 1 };
const torrentFile = Buffer.from(bencode.encode({ info }));
const infoHash = sha1(bencode.encode(info)).toString('hex');

/** Basenames that would mean a torrent name became a path somewhere. */
const suspicious = /evil|escape|a\\\.\.\\b|^webtorrent$/i;
const projectRoot = resolve(import.meta.dirname, '../..');

describe('a crafted multi-file torrent with path-traversal names, downloaded by the engine', () => {
  let base: string;
  let cas: ContentStore;
  let engine: TorrentEngine | undefined;
  let seederClient: WebTorrent | undefined;
  let before_: Map<string, Set<string>>;
  const watched = () => [tmpdir(), dirname(tmpdir()), process.cwd(), projectRoot, '/'];

  before(async () => {
    before_ = await snapshot(watched());
    base = await mkdtemp(join(tmpdir(), 'crafted-torrent-'));
    cas = await ContentStore.open(join(base, 'cas'));
  });
  after(async () => {
    await engine?.destroy();
    await new Promise<void>((resolveDestroy) => (seederClient ? seederClient.destroy(() => resolveDestroy()) : resolveDestroy()));
    await rm(base, { recursive: true, force: true });
  });

  it('stores the pieces in the CAS by SHA-256 and creates nothing outside it', async () => {
    // A stock client seeding from memory: nothing it does touches the filesystem either.
    const seedStore = new MemoryChunkStore(pieceLength, { length: content.length });
    for (const [index, piece] of pieces.entries()) await new Promise<void>((resolvePut, rejectPut) => seedStore.put(index, piece, (error) => (error ? rejectPut(error) : resolvePut())));
    seederClient = new WebTorrent({ ...privateSwarmOptions, tracker: false });
    seederClient.on('error', (error: Error) => assert.fail(error));
    const seedOptions = { preloadedStore: seedStore, private: true };
    const seeding = seederClient.add(torrentFile, seedOptions) as Torrent & { ready: boolean; done: boolean };
    seeding.on('error', (error: Error) => assert.fail(error));
    await waitFor('the seeder to verify its memory store and listen', () => seeding.ready && seeding.done && seederClient!.torrentPort > 0);
    assert.equal(seeding.infoHash, infoHash);

    engine = createTorrentEngine({ cas, logger: pino({ level: 'silent' }) });
    const pieceSha256 = pieces.map(sha256);
    const handle = await engine.addSegment({ infoHash, torrentFile, pieceSha256 });
    assert.equal(handle.infoHash, infoHash);
    handle.addPeer(`127.0.0.1:${seederClient.torrentPort}`);
    const done = watch(handle.done);
    const outcome = await waitFor('the engine to finish the crafted torrent', () => done.outcome, 20_000);
    assert.deepEqual(outcome, { status: 'fulfilled', value: undefined });

    // Inside the CAS: chunks/<aa>/<sha256> and nothing else, each under its own digest.
    const stored = await filesUnder(cas.root);
    assert.deepEqual(stored, pieceSha256.map((digest) => join('chunks', digest.slice(0, 2), digest)).toSorted());
    for (const path of stored) assert.equal(sha256(await readFile(join(cas.root, path))), path.split('/')[2], path);

    // Outside it: no new entry named like anything in the torrent, anywhere the names could have led.
    const after_ = await snapshot(watched());
    for (const [root, names] of after_) {
      const added = [...names].filter((path) => !before_.get(root)!.has(path));
      assert.deepEqual(added, [], `new entries under ${root}`);
    }
  });
});

/** Records how the promise settles, for waitFor to poll. */
function watch<T>(promise: Promise<T>): { outcome: PromiseSettledResult<T> | undefined } {
  const watched: { outcome: PromiseSettledResult<T> | undefined } = { outcome: undefined };
  promise.then(
    (value) => void (watched.outcome = { status: 'fulfilled', value }),
    (reason: unknown) => void (watched.outcome = { status: 'rejected', reason }),
  );
  return watched;
}

/** Per root, the paths below it whose basename is suspicious; '/' is listed one level deep only. */
async function snapshot(roots: readonly string[]): Promise<Map<string, Set<string>>> {
  const result = new Map<string, Set<string>>();
  for (const root of new Set(roots)) {
    const found = new Set<string>();
    await walk(root, root === '/' ? 0 : Infinity, (path) => {
      if (suspicious.test(path.slice(path.lastIndexOf('/') + 1))) found.add(path);
    });
    result.set(root, found);
  }
  return result;
}

/** Every entry under `directory`, not following symlinks; unreadable or vanishing folders (other tests') are skipped. */
async function walk(directory: string, depth: number, visit: (path: string) => void): Promise<void> {
  const entries = await readdir(directory, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const path = join(directory, entry.name);
    visit(path);
    if (entry.isDirectory() && depth > 0 && entry.name !== '.git') await walk(path, depth - 1, visit);
  }
}

async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => !entry.isDirectory())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();
}
