import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { workerNodeFlags } from '../../src/workers/workerHeap.ts';
import { waitFor } from './waitFor.ts';

export const cliPath = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  /** SIGTERM, and wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: no chance to clean up. */
  kill(): Promise<void>;
}

/** Runs `torrentedge <command>` as a child process on this Node.js and waits until it listens. */
export function startServerProcess(command: 'start' | 'serve', env: Record<string, string>): Promise<ServerProcess> {
  // `start` is ready once its banner (one write, after the listen log line) is out, `serve` once it listens.
  const ready = command === 'start' ? /TorrentEdge control plane on (http:\/\/127\.0\.0\.1:\d+)/ : /Server listening at (http:\/\/127\.0\.0\.1:\d+)/;
  return startCliProcess(command, env, ready);
}

/** Runs `torrentedge <command>` and waits until its output matches `ready` (group 1, if any, becomes `url`). */
export async function startCliProcess(command: string, env: Record<string, string>, ready: RegExp): Promise<ServerProcess> {
  // A worker runs with the node flags bin/torrentedge gives it.
  const child = spawn(process.execPath, [...(command === 'worker' ? workerNodeFlags : []), cliPath, command], {
    env: { PATH: process.env.PATH ?? '', TORRENTEDGE_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');
  const url = await waitFor(
    `torrentedge ${command} to be ready`,
    () => {
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}:\n${output}`);
      const match = ready.exec(output);
      return match === null ? undefined : (match[1] ?? '');
    },
    30_000,
  );
  return {
    child,
    url,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      return code;
    },
    async kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
