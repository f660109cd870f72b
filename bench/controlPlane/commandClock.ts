import { randomUUID } from 'node:crypto';
import type { CommandContext } from '../../src/events/metadata.ts';

/**
 * Contexts for one client's commands. `occurredAt` strictly increases per client (by at least a
 * millisecond, the resolution of the ISO string) so the lag probe can tell this client's next
 * command on the same transfer from the previous one by `updated_at` alone.
 */
export function createCommandClock() {
  let lastMs = 0;
  return {
    next(): CommandContext {
      lastMs = Math.max(Date.now(), lastMs + 1);
      return { requestId: randomUUID(), actor: 'bench', occurredAt: new Date(lastMs).toISOString() };
    },
  };
}

export type CommandClock = ReturnType<typeof createCommandClock>;
