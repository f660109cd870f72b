import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { spawnInNamespace, stopChild, stderrOf, waitForLine } from './shell.ts';
import { waitForDoneLines } from './lineEvents.ts';
import { startTrackerAndTorrent } from './swarm.ts';
import type { FleetSystem } from './system.ts';

const peerScript = resolve(import.meta.dirname, 'webtorrentPeer.ts');

/** Stock webtorrent: the origin host seeds the artifact, one client per node, a local tracker. */
export const webtorrent: FleetSystem = {
  async prepare(context, cleanup) {
    const { network, artifact, workDir } = context;
    const { torrentPath } = await startTrackerAndTorrent(context, cleanup);
    const seeder = spawnInNamespace(network.origin.ns, process.execPath, [peerScript, 'seed', torrentPath, dirname(artifact.path)], process.env, 'pipe');
    const seederErrors = (): string => stderrOf(seeder);
    cleanup.push('stop the webtorrent seed', () => stopChild(seeder));
    await waitForLine(seeder, (line) => line === 'ready', 120_000, 'the webtorrent seed').catch((error: Error) => {
      throw new Error(`${error.message}: ${seederErrors()}`);
    });

    const dirs = network.nodes.map((_, i) => join(workDir, `node-${i + 1}`));
    await Promise.all(dirs.map((dir) => mkdir(dir, { recursive: true })));
    const peers = network.nodes.map((node, i) => spawnInNamespace(node.ns, process.execPath, [peerScript, 'leech', torrentPath, dirs[i]!], process.env, 'pipe'));
    cleanup.push('stop the webtorrent peers', () => Promise.all(peers.map((peer) => stopChild(peer))), 10_000);
    await Promise.all(peers.map((peer, i) => waitForLine(peer, (line) => line === 'waiting', 30_000, `webtorrent peer ${i + 1}`)));

    return {
      rootPids: () => peers.map((peer) => peer.pid!),
      originPids: () => [seeder.pid!],
      async originPayloadBytes() {
        const answer = waitForLine(seeder, (line) => line.startsWith('uploaded '), 5000, 'the webtorrent seed');
        seeder.kill('SIGUSR2');
        return Number((await answer).split(' ')[1]);
      },
      nodeFile: (i) => join(dirs[i]!, artifact.name),
      distribute(deadline, signal) {
        const started = performance.now();
        for (const peer of peers) peer.kill('SIGHUP');
        return waitForDoneLines(peers, started, deadline, signal);
      },
    };
  },
};
