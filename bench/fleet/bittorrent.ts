import { execFile, type ChildProcess } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { spawnInNamespace, stopChild, stderrOf } from './shell.ts';
import { startTrackerAndTorrent } from './swarm.ts';
import { pause, type FleetSystem } from './system.ts';

const rpcPort = 6800;
// Stock aria2c; only the discovery that needs the internet is off (DHT, LPD multicast). Every
// client keeps seeding (ratio 0: no limit), as a fleet's nodes would until the rollout ends.
const commonFlags = ['--enable-rpc=true', '--rpc-listen-all=true', `--rpc-listen-port=${rpcPort}`, '--enable-dht=false', '--enable-dht6=false', '--bt-enable-lpd=false', '--seed-ratio=0.0', '--summary-interval=0', '--console-log-level=warn'];

interface Aria2Status {
  gid: string;
  status: string;
  totalLength: string;
  completedLength: string;
  uploadLength: string;
  seeder?: string;
}

async function rpc<T>(address: string, method: string, params: unknown[] = []): Promise<T> {
  const response = await fetch(`http://${address}:${rpcPort}/jsonrpc`, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 'bench', method, params }), signal: AbortSignal.timeout(5000) });
  const body = (await response.json()) as { result?: T; error?: { message: string } };
  if (body.error !== undefined) throw new Error(`aria2 ${method}: ${body.error.message}`);
  return body.result as T;
}

/** Waits until aria2c at `address` answers RPC and `ready(active downloads)` holds. */
async function waitFor(address: string, child: ChildProcess, errors: () => string, ready: (active: Aria2Status[]) => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited: ${errors()}`);
    const active = await rpc<Aria2Status[]>(address, 'aria2.tellActive').catch(() => undefined);
    if (active !== undefined && ready(active)) return;
    if (performance.now() > deadline) throw new Error(`${what} not ready within 120 s: ${errors()}`);
    await pause(100, AbortSignal.timeout(1000));
  }
}

/** aria2c (Debian's aria2): the origin host seeds the artifact; one client per node, a local tracker. */
export const bittorrent: FleetSystem = {
  async prepare(context, cleanup) {
    const { network, artifact, workDir } = context;
    await promisify(execFile)('aria2c', ['--version']).catch(() => {
      throw new Error('aria2c is not installed here: apt-get install -y aria2 (Debian), or leave bittorrent out of --systems');
    });
    const { torrentPath } = await startTrackerAndTorrent(context, cleanup);
    const seeder = spawnInNamespace(network.origin.ns, 'aria2c', [...commonFlags, '--check-integrity=true', `--dir=${dirname(artifact.path)}`, torrentPath]);
    cleanup.push('stop the aria2 seed', () => stopChild(seeder));
    await waitFor(network.origin.address, seeder, () => stderrOf(seeder), (active) => active[0]?.seeder === 'true', 'the aria2 seed');

    const dirs = network.nodes.map((_, i) => join(workDir, `node-${i + 1}`));
    await Promise.all(dirs.map((dir) => mkdir(dir, { recursive: true })));
    const clients = network.nodes.map((node, i) => spawnInNamespace(node.ns, 'aria2c', [...commonFlags, `--dir=${dirs[i]}`]));
    cleanup.push('stop the aria2 clients', () => Promise.all(clients.map((client) => stopChild(client))), 10_000);
    await Promise.all(network.nodes.map((node, i) => waitFor(node.address, clients[i]!, () => stderrOf(clients[i]!), () => true, `aria2c on ${node.ns}`)));
    const torrent = (await readFile(torrentPath)).toString('base64');

    return {
      rootPids: () => clients.map((client) => client.pid!),
      originPids: () => [seeder.pid!],
      async originPayloadBytes() {
        const [seed] = await rpc<Aria2Status[]>(network.origin.address, 'aria2.tellActive');
        return Number(seed?.uploadLength ?? Number.NaN);
      },
      nodeFile: (i) => join(dirs[i]!, artifact.name),
      async distribute(deadline, signal) {
        const started = performance.now();
        const gids = await Promise.all(network.nodes.map((node) => rpc<string>(node.address, 'aria2.addTorrent', [torrent])));
        const times: Array<number | undefined> = gids.map(() => undefined);
        // Polled every 100 ms: completion times carry up to 0.1 s of polling delay.
        while (times.includes(undefined) && performance.now() < deadline && !signal.aborted) {
          await Promise.all(
            network.nodes.map(async (node, i) => {
              if (times[i] !== undefined) return;
              const status = await rpc<Aria2Status>(node.address, 'aria2.tellStatus', [gids[i], ['status', 'totalLength', 'completedLength']]);
              if (status.status === 'error') throw new Error(`aria2c on ${node.ns} failed the download`);
              if (Number(status.totalLength) > 0 && status.completedLength === status.totalLength) times[i] = (performance.now() - started) / 1000;
            }),
          );
          await pause(100, signal);
        }
        signal.throwIfAborted();
        return times;
      },
    };
  },
};
