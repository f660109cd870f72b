import { Counter, type Registry } from 'prom-client';

/**
 * Why a holder lost its lease. `expired` and `taken` are what the store answered to a renewal
 * (the lease was gone, or held by a newer grant); `error` is a lease that ran out while the store
 * could not be reached.
 */
export const leaseLossReasons = ['expired', 'taken', 'error'] as const;
export type LeaseLossReason = (typeof leaseLossReasons)[number];

/** Lease counters on the caller's registry; both adapters and fencedLease take them optionally. */
export function createLeaseMetrics(registry: Registry) {
  const grantsTotal = new Counter({
    name: 'torrentedge_lease_grants_total',
    help: 'Leases granted, each with a new fencing token',
    registers: [registry],
  });
  const renewalsTotal = new Counter({
    name: 'torrentedge_lease_renewals_total',
    help: 'Lease renewals the store accepted',
    registers: [registry],
  });
  const lossesTotal = new Counter({
    name: 'torrentedge_lease_losses_total',
    help: 'Leases lost by their holder: a renewal refused by the store (expired, taken), or a lease that ran out unrenewed (expired, error)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  // Every reason exported from the start, so rate() and alerts see zeros rather than no series.
  for (const reason of leaseLossReasons) lossesTotal.inc({ reason }, 0);
  return { grantsTotal, renewalsTotal, lossesTotal };
}

export type LeaseMetrics = ReturnType<typeof createLeaseMetrics>;
