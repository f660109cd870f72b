import { writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import TrackerServer from 'bittorrent-tracker/server';
import createTorrent from 'create-torrent';
import type { CleanupStack } from '../lib/benchMain.ts';
import type { FleetContext } from './system.ts';

/**
 * What the stock BitTorrent systems share: a local HTTP tracker (bittorrent-tracker, on the host
 * side like TorrentEdge's) and a .torrent with create-torrent's default piece length. Hashing
 * the artifact happens here, before the clock: it favours the alternatives, which would otherwise
 * pay a full read of the origin (about F/u_s) before the first byte moves.
 */
export async function startTrackerAndTorrent(context: FleetContext, cleanup: CleanupStack): Promise<{ torrentPath: string; announceUrl: string }> {
  const tracker = new TrackerServer({ http: true, udp: false, ws: false, stats: false });
  await new Promise<void>((resolve, reject) => {
    tracker.once('error', reject);
    tracker.listen(0, context.network.apiAddress, () => resolve());
  });
  cleanup.push('close the tracker', () => new Promise<void>((resolve) => tracker.close(() => resolve())));
  const { port } = tracker.http!.address() as AddressInfo;
  const announceUrl = `http://${context.network.apiAddress}:${port}/announce`;

  const torrent = await new Promise<Uint8Array>((resolve, reject) =>
    createTorrent(context.artifact.path, { announceList: [[announceUrl]], createdBy: 'torrentedge-bench' }, (error, bytes) => (error === null ? resolve(bytes) : reject(error))),
  );
  const torrentPath = join(context.workDir, `${context.artifact.name}.torrent`);
  await writeFile(torrentPath, torrent);
  return { torrentPath, announceUrl };
}
