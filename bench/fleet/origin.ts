import { resolve } from 'node:path';
import type { CleanupStack } from '../lib/benchMain.ts';
import type { FleetNetwork } from './network.ts';
import { spawnInNamespace, stderrOf, stopChild, waitForLine } from './shell.ts';

const serverScript = resolve(import.meta.dirname, 'originServer.ts');

/** The HTTP origin, in the origin host's namespace, for the whole run (its byte count is cumulative). */
export async function startOrigin(network: FleetNetwork, artifactPath: string, cleanup: CleanupStack): Promise<{ url: string; pid: number; servedBytes(): Promise<number> }> {
  const server = spawnInNamespace(network.origin.ns, process.execPath, [serverScript, artifactPath, network.origin.address], process.env, 'pipe');
  cleanup.push('stop the origin', () => stopChild(server));
  const ready = await waitForLine(server, (line) => line.startsWith('ready '), 30_000, 'the origin').catch((error: Error) => {
    throw new Error(`${error.message}: ${stderrOf(server)}`);
  });
  return {
    url: ready.slice('ready '.length),
    pid: server.pid!,
    async servedBytes() {
      const answer = waitForLine(server, (line) => line.startsWith('served '), 5000, 'the origin');
      server.kill('SIGUSR2');
      return Number((await answer).slice('served '.length));
    },
  };
}
