import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import FSChunkStore from 'fs-chunk-store';
import WebTorrent, { type Torrent } from 'webtorrent';
import type { Logger } from 'pino';
import { TorrentEdgeError } from '../errors.ts';
import type { ArtifactFile } from '../events/transferEvents.ts';
import { privateSwarmOptions } from '../engine/torrentEngine.ts';
import type { Origin } from './origin.ts';
import { sanitizeTorrentPaths } from './sanitizeTorrentPath.ts';

/**
 * Keeps a foreign torrent's pieces in ONE staging file, at piece offsets, whatever the torrent's
 * file names say: webtorrent passes the torrent's files to its store, and fs-chunk-store would
 * turn them into paths. This store drops them.
 */
function stagingStoreIn(directory: string) {
  return class StagingStore extends FSChunkStore {
    constructor(chunkLength: number, options: { length: number; torrent: { infoHash: string } }) {
      super(chunkLength, { path: stagingPathOf(directory, options.torrent.infoHash), length: options.length });
    }
  };
}

const stagingPathOf = (directory: string, infoHash: string): string => join(directory, `magnet-${infoHash}.bin`);

/**
 * A magnet link's swarm as an origin. The info hash the user gave is the root of trust: webtorrent
 * fetches the metadata and verifies every piece by SHA-1 against it. The pieces are joined in a
 * staging file, then read like a local file while the seed re-chunks them into the manifest's
 * SHA-256 pieces and re-seeds them inside the fleet. The client uses only the magnet's own
 * trackers and peer addresses (`tr=`, `x.pe=`): no DHT, no LSD.
 */
export function createMagnetOrigin(magnetURI: string, options: { stagingDir: string; logger: Logger; timeoutMs?: number }): Origin {
  const client = new WebTorrent({ ...privateSwarmOptions });
  client.on('error', (error: Error) => options.logger.warn({ err: error }, 'magnet client error'));
  let stagingPath: string | undefined;
  let files: ArtifactFile[] = [];
  let starts: number[] = [];
  let handle: FileHandle | undefined;
  let abandon: ((error: Error) => void) | undefined;
  let closed = false;

  return {
    async describe() {
      await mkdir(options.stagingDir, { recursive: true });
      const torrent = await new Promise<Torrent>((resolve, reject) => {
        // close() while the swarm is still being read (a drain, a lost lease) ends the wait.
        abandon = reject;
        // A stall, not a deadline: a large magnet may take hours, but never ten minutes without a byte.
        const stallMs = options.timeoutMs ?? 600_000;
        const stalled = (): void => reject(new TorrentEdgeError('TE_ERR_UNAVAILABLE', `the magnet swarm sent nothing for ${stallMs / 1000} s`));
        let timer = setTimeout(stalled, stallMs);
        timer.unref();
        const added = client.add(magnetURI, { store: stagingStoreIn(options.stagingDir), storeCacheSlots: 0 });
        added.once('infoHash', () => (stagingPath = stagingPathOf(options.stagingDir, added.infoHash)));
        added.on('download', () => {
          clearTimeout(timer);
          timer = setTimeout(stalled, stallMs);
          timer.unref();
        });
        added.once('done', () => {
          clearTimeout(timer);
          resolve(added);
        });
        added.once('error', (error: Error) => {
          clearTimeout(timer);
          reject(new TorrentEdgeError('TE_ERR_UNAVAILABLE', `magnet: ${error.message}`));
        });
      });
      const torrentFiles = torrent.files;
      // webtorrent's paths are the torrent's name and the file's path, joined (and already
      // normalized by parse-torrent); whatever they hold, they are sanitized before use.
      const names = sanitizeTorrentPaths(torrentFiles.map((file) => file.path.split(/[/\\]/).join('/')));
      // The info hash pins every byte: it is the files' version.
      files = torrentFiles.map((file, i) => ({ path: names[i]!, length: file.length, version: torrent.infoHash }));
      starts = torrentFiles.map((file) => file.offset);
      handle = await open(stagingPath!, 'r');
      return { files };
    },
    async read(fileIndex, offset, length) {
      const buffer = Buffer.allocUnsafe(length);
      const { bytesRead } = await handle!.read(buffer, 0, length, starts[fileIndex]! + offset);
      if (bytesRead !== length) throw new TorrentEdgeError('TE_ERR_UNAVAILABLE', `the staging file ended after ${bytesRead} of ${length} bytes`);
      return buffer;
    },
    async close() {
      if (closed) return;
      closed = true;
      abandon?.(new TorrentEdgeError('TE_ERR_UNAVAILABLE', 'the magnet origin was closed before its swarm was read'));
      await handle?.close();
      await new Promise<void>((resolve) => client.destroy(() => resolve()));
      if (stagingPath !== undefined) await rm(stagingPath, { force: true });
    },
  };
}
