/**
 * The seeder child: a ContentStore that already holds every chunk, and createTorrentEngine
 * seeding each segment (complete, so from the CAS without re-hashing), as a seed worker does
 * once it has read the origin.
 */
import { ContentStore } from '../../src/cas/index.ts';
import { createTorrentEngine, type TorrentEngine } from '../../src/engine/torrentEngine.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import type { SeederCalls } from './roleProtocol.ts';
import { serveRole } from './serveRole.ts';

let engine: TorrentEngine | undefined;

serveRole<SeederCalls>({
  async setup({ casRoot, segments, engine: tuning }) {
    const cas = await ContentStore.open(casRoot);
    engine = createTorrentEngine({ cas, logger: silentLogger(), ...tuning });
    for (const segment of segments) {
      await engine.addSegment({ infoHash: segment.infoHash, torrentFile: Buffer.from(segment.torrentFile, 'base64'), pieceSha256: segment.pieceSha256 });
    }
    await waitForPort(engine);
    return { port: engine.port };
  },
  async close() {
    await engine?.destroy();
  },
});

/** The client listens once its first torrent is added; the port is 0 until then. */
async function waitForPort(torrentEngine: TorrentEngine): Promise<void> {
  for (let waited = 0; torrentEngine.port === 0; waited += 10) {
    if (waited > 10_000) throw new Error('the torrent engine did not listen within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
