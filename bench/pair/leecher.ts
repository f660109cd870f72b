/**
 * The leecher child: an empty ContentStore and createTorrentEngine adding every segment and
 * connecting straight to the seeder (no tracker), as a worker fetching an artifact does once the
 * manifest is complete. Pieces go through CasChunkStore: SHA-256 verified, written atomically.
 */
import { ContentStore } from '../../src/cas/index.ts';
import { createTorrentEngine, pieceBufferStats, type TorrentEngine } from '../../src/engine/torrentEngine.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import type { LeecherCalls, LeecherMemory, SegmentSpec } from './roleProtocol.ts';
import { serveRole, usageNow } from './serveRole.ts';

let engine: TorrentEngine | undefined;
let cas: ContentStore | undefined;
let segments: SegmentSpec[] = [];

serveRole<LeecherCalls>({
  async setup(payload) {
    cas = await ContentStore.open(payload.casRoot);
    engine = createTorrentEngine({ cas, logger: silentLogger(), ...payload.engine });
    segments = payload.segments;
    return null;
  },
  async fetch({ peer }) {
    if (cas === undefined || engine === undefined) throw new Error('fetch before setup');
    const memory = sampleMemory(engine);
    const cpu0 = process.cpuUsage();
    const started = performance.now();
    const handles = await Promise.all(
      segments.map((segment) =>
        engine!.addSegment({ infoHash: segment.infoHash, torrentFile: Buffer.from(segment.torrentFile, 'base64'), pieceSha256: segment.pieceSha256 }),
      ),
    );
    for (const handle of handles) handle.addPeer(peer);
    await Promise.all(handles.map((handle) => handle.done));
    const elapsedMs = performance.now() - started;
    const cpu = process.cpuUsage(cpu0);
    const { maxRssKiB } = usageNow();
    const peaks = memory.stop();

    // Untimed: every chunk is in the store (each was SHA-256-verified on its way in).
    let bytes = 0;
    for (const digest of segments.flatMap((segment) => segment.pieceSha256)) {
      const size = await cas.chunkSize(digest);
      if (size === undefined) throw new Error(`chunk ${digest} is missing after the download`);
      bytes += size;
    }
    return { elapsedMs, cpu: { userUs: cpu.user, systemUs: cpu.system }, maxRssKiB, bytes, memory: peaks };
  },
  async close() {
    await engine?.destroy();
  },
});

/** RSS beside what the engine holds for the download, every 50 ms (a sample costs a few microseconds). */
function sampleMemory(torrentEngine: TorrentEngine): { stop(): LeecherMemory } {
  const mib = 2 ** 20;
  const peak = { inFlight: 0, pieces: 0, rssLessInFlight: 0, atPeak: { inFlightMiB: 0, heapUsedMiB: 0, arrayBuffersMiB: 0, idlePieceBuffersMiB: 0 } };
  const startRss = process.memoryUsage.rss();
  const sample = (): void => {
    const { assemblingPieces, assemblingBytes, pendingWriteBytes } = torrentEngine.inFlight();
    const inFlight = assemblingBytes + pendingWriteBytes;
    peak.inFlight = Math.max(peak.inFlight, inFlight);
    peak.pieces = Math.max(peak.pieces, assemblingPieces);
    const rssLessInFlight = process.memoryUsage.rss() - inFlight;
    if (rssLessInFlight <= peak.rssLessInFlight) return;
    peak.rssLessInFlight = rssLessInFlight;
    // The full breakdown only at a new peak: memoryUsage() walks the heap's spaces.
    const { heapUsed, arrayBuffers } = process.memoryUsage();
    peak.atPeak = { inFlightMiB: Math.round(inFlight / mib), heapUsedMiB: Math.round(heapUsed / mib), arrayBuffersMiB: Math.round(arrayBuffers / mib), idlePieceBuffersMiB: Math.round(pieceBufferStats().idleBytes / mib) };
  };
  const timer = setInterval(sample, 50);
  return {
    stop(): LeecherMemory {
      clearInterval(timer);
      sample();
      return { startRssMiB: Math.round(startRss / mib), peakInFlightMiB: Math.round(peak.inFlight / mib), peakAssemblingPieces: peak.pieces, peakRssLessInFlightMiB: Math.round(peak.rssLessInFlight / mib), atPeak: peak.atPeak };
    },
  };
}
