import { join } from 'node:path';
import { spawnInNamespace, stopChild } from './shell.ts';
import { waitForDoneLines } from './lineEvents.ts';
import type { FleetSystem } from './system.ts';

/**
 * What a user does without TorrentEdge: every node pulls the file from the origin with curl,
 * all at once. The shell stays (exec sleep) after curl exits, so curl's CPU stays readable in its
 * cutime/cstime until the sampler's last look.
 */
const script = 'curl -sS --fail -o "$0" "$1" && echo done || echo failed; exec sleep 86400';

export const direct: FleetSystem = {
  async prepare(context, cleanup) {
    const files = context.network.nodes.map((_, i) => join(context.workDir, `node-${i + 1}-${context.artifact.name}`));
    let children: ReturnType<typeof spawnInNamespace>[] = [];
    cleanup.push('stop the curl shells', () => Promise.all(children.map((child) => stopChild(child))), 10_000);
    return {
      rootPids: () => children.map((child) => child.pid!),
      originPids: () => [],
      originPayloadBytes: () => context.origin.servedBytes(),
      nodeFile: (i) => files[i]!,
      distribute(deadline, signal) {
        const started = performance.now();
        children = context.network.nodes.map((node, i) => spawnInNamespace(node.ns, 'bash', ['-c', script, files[i]!, context.origin.url], process.env, 'pipe'));
        return waitForDoneLines(children, started, deadline, signal);
      },
    };
  },
};
