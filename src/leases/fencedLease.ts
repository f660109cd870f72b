import type { Lease, LeaseManager } from './leaseManager.ts';
import type { LeaseLossReason, LeaseMetrics } from './leaseMetrics.ts';

/** A granted lease kept alive by renewal; a worker checks isHeld() and stops writing once lost. */
export interface FencedLease {
  readonly resource: string;
  /** Send it with every write: the target rejects a token lower than the highest it has seen. */
  readonly fencingToken: number;
  /** The latest grant; expiresAt moves on with each renewal. */
  current(): Lease;
  /** False once lost or released, and past the expiry of the last renewal even before onLost ran. */
  isHeld(): boolean;
  /** Stops renewing and frees the resource; false when the lease was no longer ours. */
  release(): Promise<boolean>;
}

export interface FencedLeaseOptions {
  /** Called once, when the lease is lost (never after release); it must not throw. */
  onLost: (reason: LeaseLossReason) => void;
  /** Default: a third of the ttl, which leaves two more attempts before the lease runs out. */
  renewEveryMs?: number;
  clock?: () => number;
}

type State = 'held' | 'lost' | 'released';

/**
 * Holds `granted`, renewing it every renewEveryMs. A refused renewal loses the lease at once. A
 * failed one (store unreachable) is retried on the same schedule, and the lease is lost when its
 * expiry passes unrenewed: from then on another worker may hold it, whatever our store says later.
 */
export function holdLease(deps: { leases: LeaseManager; metrics?: LeaseMetrics }, granted: Lease, options: FencedLeaseOptions): FencedLease {
  const clock = options.clock ?? Date.now;
  const renewEveryMs = options.renewEveryMs ?? Math.max(1, Math.floor(granted.ttlMs / 3));
  let lease = granted;
  let state: State = 'held';
  let lastError: unknown;
  let renewTimer: ReturnType<typeof setTimeout> | undefined;
  let expiryTimer: ReturnType<typeof setTimeout> | undefined;

  const stopTimers = () => {
    clearTimeout(renewTimer);
    clearTimeout(expiryTimer);
  };

  const lose = (reason: LeaseLossReason) => {
    if (state !== 'held') return;
    state = 'lost';
    stopTimers();
    options.onLost(reason);
  };

  // The expiry timer, not the renewal, decides a loss in the end: a renewal may hang for longer
  // than the lease has left. The store never answered about this loss, so it is counted here.
  const armExpiry = () => {
    clearTimeout(expiryTimer);
    expiryTimer = setTimeout(() => {
      const reason = lastError === undefined ? 'expired' : 'error';
      if (state === 'held') deps.metrics?.lossesTotal.inc({ reason });
      lose(reason);
    }, Math.max(0, lease.expiresAt - clock()));
  };

  const scheduleRenewal = () => {
    renewTimer = setTimeout(() => void renew(), renewEveryMs);
  };

  /** Asked only after a refusal, to tell the worker why; the adapter has already counted it. */
  const whyRefused = async (): Promise<LeaseLossReason> => {
    const holder = await deps.leases.holderOf(lease.resource).catch(() => undefined);
    return holder === undefined ? 'expired' : 'taken';
  };

  async function renew(): Promise<void> {
    let renewed: Lease | undefined;
    try {
      renewed = await deps.leases.renew(lease);
    } catch (error) {
      lastError = error;
      if (state === 'held') scheduleRenewal();
      return;
    }
    if (state !== 'held') {
      // A reply that came after the loss or the release: nobody holds this grant any more, so free it.
      if (renewed !== undefined) await deps.leases.release(renewed).catch(() => false);
      return;
    }
    if (renewed === undefined) return lose(await whyRefused());
    lease = renewed;
    lastError = undefined;
    armExpiry();
    scheduleRenewal();
  }

  armExpiry();
  scheduleRenewal();
  return {
    resource: granted.resource,
    fencingToken: granted.fencingToken,
    current: () => lease,
    isHeld: () => state === 'held' && clock() < lease.expiresAt,
    async release() {
      if (state !== 'held') return false;
      state = 'released';
      stopTimers();
      return deps.leases.release(lease);
    },
  };
}
