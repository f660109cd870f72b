import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Runs one command (no shell) and returns its stdout; throws with stderr on a non-zero exit. */
export async function run(command: string, args: readonly string[], timeoutMs = 20_000): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args, { timeout: timeoutMs, maxBuffer: 16 * 2 ** 20 });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`${command} ${args.join(' ')}: ${stderr.trim() || (error as Error).message}`, { cause: error });
  }
}

/** `ip ...`: every namespace, link and address change goes through here. */
export const ip = (...args: string[]): Promise<string> => run('ip', args);
export const tc = (...args: string[]): Promise<string> => run('tc', args);

/**
 * Starts `command` inside network namespace `ns`. `ip netns exec` execs the command, so the
 * child's pid is the command's own: what /proc sampling needs.
 */
export function spawnInNamespace(ns: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env, stdout: 'pipe' | 'ignore' = 'ignore'): ChildProcess {
  const child = spawn('ip', ['netns', 'exec', ns, command, ...args], { env, stdio: ['ignore', stdout, 'pipe'] });
  // Always drained: a full stderr pipe would stall the child mid-transfer.
  stderrTails.set(child, tailOf(child));
  return child;
}

const stderrTails = new WeakMap<ChildProcess, () => string>();

/** The last few KiB a child spawned by spawnInNamespace wrote to stderr. */
export const stderrOf = (child: ChildProcess): string => stderrTails.get(child)?.() ?? '';

/** Sends SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export async function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Keeps the last `max` characters of a child's stderr, for the error when it fails. */
function tailOf(child: ChildProcess, max = 4000): () => string {
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-max);
  });
  return () => tail;
}

/** Resolves with the first stdout line that `match` accepts; rejects if the child exits first. */
export function waitForLine(child: ChildProcess, match: (line: string) => boolean, timeoutMs: number, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => done(new Error(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      const line = lines.find(match);
      if (line !== undefined) done(undefined, line);
    };
    const onExit = (code: number | null): void => done(new Error(`${what}: exited (${code}) before it was ready`));
    const done = (error: Error | undefined, line?: string): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      if (error === undefined) resolve(line!);
      else reject(error);
    };
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}
