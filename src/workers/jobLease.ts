import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { ContentStore } from '../cas/index.ts';
import { holdLease, type FencedLease } from '../leases/fencedLease.ts';
import type { LeaseManager } from '../leases/leaseManager.ts';
import type { LeaseMetrics } from '../leases/leaseMetrics.ts';

/** The node as well as the path: two nodes sharing one Redis may both use the default CAS path. */
export const leaseResource = (nodeId: string, casVolume: string, transferId: string): string => `${nodeId}:${casVolume}:${transferId}`;

/**
 * Takes the job's lease, waiting while another worker of this node holds it (a crashed one,
 * until its lease expires). The token is drawn above the highest the job and the CAS fence have
 * seen, so an in-process lease manager that restarted from zero still issues a token the api
 * accepts. `onLost` fires once when renewal fails.
 */
export async function acquireJobLease(
  deps: { leases: LeaseManager; leaseMetrics?: LeaseMetrics | undefined; cas: ContentStore; workerId: string; logger: Logger },
  request: { resource: string; ttlMs: number; tokenSeen: number; signal: AbortSignal; onLost: () => void },
): Promise<FencedLease> {
  const tokenAbove = Math.max(request.tokenSeen, await deps.cas.fenceOf(request.resource));
  for (;;) {
    const granted = await deps.leases.acquire(request.resource, deps.workerId, request.ttlMs, { tokenAbove });
    if (granted !== undefined) {
      return holdLease({ leases: deps.leases, ...(deps.leaseMetrics !== undefined ? { metrics: deps.leaseMetrics } : {}) }, granted, {
        onLost: (reason) => {
          deps.logger.warn({ reason }, 'lease lost; the job stops writing');
          request.onLost();
        },
      });
    }
    await delay(Math.min(1000, request.ttlMs / 4), undefined, { signal: request.signal });
  }
}
