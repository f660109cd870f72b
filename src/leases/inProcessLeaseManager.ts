import { checkLeaseRequest, leaseManagerClosed, type Lease, type LeaseHolder, type LeaseManager, type AcquireOptions } from './leaseManager.ts';
import type { LeaseMetrics } from './leaseMetrics.ts';

export interface InProcessLeaseManagerOptions {
  /** Milliseconds since the epoch; tests pass a clock they move by hand. */
  clock?: () => number;
}

interface Grant extends LeaseHolder {
  expiresAt: number;
}

/**
 * The embedded lease manager, for a single process: the same contract as Redis, minus surviving
 * a restart. Nothing here awaits, so each call runs to completion before the next one starts:
 * that is what makes a grant and its token one step, as the Lua script does in Redis.
 */
export function createInProcessLeaseManager(deps: { metrics?: LeaseMetrics } = {}, options: InProcessLeaseManagerOptions = {}): LeaseManager {
  const clock = options.clock ?? Date.now;
  const grants = new Map<string, Grant>();
  // Kept after a release or an expiry: tokens never go down for a resource.
  const lastTokens = new Map<string, number>();
  let closed = false;

  /** The live grant; an expired one is dropped when next looked at, as Redis drops an expired key. */
  function grantOf(resource: string): Grant | undefined {
    if (closed) throw leaseManagerClosed();
    const grant = grants.get(resource);
    if (grant !== undefined && grant.expiresAt <= clock()) {
      grants.delete(resource);
      return undefined;
    }
    return grant;
  }

  const isLease = (grant: Grant | undefined, lease: Lease): grant is Grant =>
    grant !== undefined && grant.holder === lease.holder && grant.fencingToken === lease.fencingToken;

  return {
    async acquire(resource: string, holder: string, ttlMs: number, acquireOptions: AcquireOptions = {}) {
      checkLeaseRequest(resource, holder, ttlMs);
      if (grantOf(resource) !== undefined) return undefined;
      const fencingToken = Math.max(lastTokens.get(resource) ?? 0, acquireOptions.tokenAbove ?? 0) + 1;
      lastTokens.set(resource, fencingToken);
      const expiresAt = clock() + ttlMs;
      grants.set(resource, { holder, fencingToken, expiresAt });
      deps.metrics?.grantsTotal.inc();
      return { resource, holder, fencingToken, ttlMs, expiresAt };
    },

    async renew(lease: Lease) {
      checkLeaseRequest(lease.resource, lease.holder, lease.ttlMs);
      const grant = grantOf(lease.resource);
      if (!isLease(grant, lease)) {
        deps.metrics?.lossesTotal.inc({ reason: grant === undefined ? 'expired' : 'taken' });
        return undefined;
      }
      const expiresAt = clock() + lease.ttlMs;
      grant.expiresAt = expiresAt;
      deps.metrics?.renewalsTotal.inc();
      return { ...lease, expiresAt };
    },

    async release(lease: Lease) {
      if (!isLease(grantOf(lease.resource), lease)) return false;
      grants.delete(lease.resource);
      return true;
    },

    async holderOf(resource: string) {
      const grant = grantOf(resource);
      return grant === undefined ? undefined : { holder: grant.holder, fencingToken: grant.fencingToken };
    },

    async close() {
      closed = true;
    },
  };
}
