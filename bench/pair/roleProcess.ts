import { fork, type ChildProcess } from 'node:child_process';
import type { CleanupStack } from '../lib/benchMain.ts';
import { withTimeout } from '../lib/withTimeout.ts';
import type { RoleCalls, RoleReply, RoleRequest } from './roleProtocol.ts';

export interface RoleProcess<C extends RoleCalls> {
  readonly pid: number;
  call<K extends keyof C & string>(type: K, payload: C[K]['payload'], options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<C[K]['result']>;
  /** Asks the role to close and waits for the process to exit; the result is its last usage. */
  stop(): Promise<C['stop']['result']>;
}

/**
 * Forks `script` (a serveRole module) with the same Node and registers its end on the cleanup
 * stack: stopped if it still answers, killed if not, so a failed or interrupted run leaves no child.
 */
export async function startRole<C extends RoleCalls>(
  name: string,
  script: URL,
  options: { execArgv?: string[]; cleanup: CleanupStack; log: (message: string) => void },
): Promise<RoleProcess<C>> {
  const child: ChildProcess = fork(script, [], { execArgv: options.execArgv ?? [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let exitCode: number | null | undefined;
  child.once('exit', (code, signal) => {
    exitCode = code;
    for (const { reject } of pending.values()) reject(new Error(`${name} exited (${signal ?? code}) before replying`));
    pending.clear();
  });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  child.on('message', (reply: RoleReply) => {
    const waiter = pending.get(reply.id);
    if (waiter === undefined) return;
    pending.delete(reply.id);
    if (reply.ok) waiter.resolve(reply.result);
    else waiter.reject(new Error(`${name}: ${reply.error}`));
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const pid = child.pid!;

  const call = <R>(type: string, payload: unknown, timeoutMs = 60_000, signal?: AbortSignal): Promise<R> => {
    if (exitCode !== undefined) return Promise.reject(new Error(`${name} has exited`));
    const id = nextId++;
    const reply = new Promise<R>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      const request: RoleRequest = { id, type, payload };
      child.send(request);
    });
    return withTimeout(reply, timeoutMs, `${name}: ${type}`, signal);
  };

  const stop = async (): Promise<C['stop']['result']> => {
    const usage = await call<C['stop']['result']>('stop', null, 15_000);
    await withTimeout(exited, 15_000, `${name} to exit`);
    return usage;
  };

  options.cleanup.push(`end the ${name} process (pid ${pid})`, async () => {
    if (exitCode !== undefined) return;
    try {
      await stop();
    } catch (error) {
      options.log(`${name} did not stop (${error instanceof Error ? error.message : String(error)}); killing pid ${pid}`);
      child.kill('SIGKILL');
      await exited;
    }
  }, 40_000);

  return {
    pid,
    call: (type, payload, callOptions) => call(type, payload, callOptions?.timeoutMs, callOptions?.signal),
    stop,
  };
}
