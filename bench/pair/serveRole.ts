import type { CommonCalls, RoleCalls, RoleReply, RoleRequest, Usage } from './roleProtocol.ts';

export type RoleHandlers<C extends RoleCalls> = {
  [K in Exclude<keyof C, keyof CommonCalls>]: (payload: C[K]['payload']) => Promise<C[K]['result']>;
} & { close?: () => Promise<void> };

export function usageNow(): Usage {
  const { user, system } = process.cpuUsage();
  return { userUs: user, systemUs: system, maxRssKiB: process.resourceUsage().maxRSS };
}

/**
 * The child's side of the IPC calls: runs one handler per request and replies with its result
 * or its error. `stop` closes the role and exits; losing the parent exits too, so a killed bench
 * leaves no child behind.
 */
export function serveRole<C extends RoleCalls>(handlers: RoleHandlers<C>): void {
  const send = (reply: RoleReply): Promise<void> => new Promise((resolve) => process.send!(reply, undefined, {}, () => resolve()));
  const table = handlers as unknown as Record<string, ((payload: unknown) => Promise<unknown>) | undefined>;
  process.on('disconnect', () => process.exit(1));
  process.on('message', (message: RoleRequest) => {
    void (async () => {
      try {
        if (message.type === 'usage') return await send({ id: message.id, ok: true, result: usageNow() });
        if (message.type === 'stop') {
          await handlers.close?.();
          await send({ id: message.id, ok: true, result: usageNow() });
          // process.exit, not a drained loop: a library handle must not keep the child alive, and
          // --cpu-prof writes its profile on exit either way.
          return process.exit(0);
        }
        const handler = table[message.type];
        if (handler === undefined) throw new Error(`this role has no call "${message.type}"`);
        await send({ id: message.id, ok: true, result: await handler(message.payload) });
      } catch (error) {
        await send({ id: message.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      }
    })();
  });
}
