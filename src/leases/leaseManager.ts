import { TorrentEdgeError } from '../errors.ts';

/**
 * The lease port: at most one holder per resource (a worker uses `${casVolume}:${transferId}`),
 * for a time-to-live it must keep renewing. Adapters: Redis (ioredis) and the in-process
 * default; both pass test/contracts/leaseManager.contract.ts.
 *
 * A lease alone does not make a write safe: a paused holder may write after its lease ran out.
 * So each grant carries a fencing token, strictly greater than every token issued before for the
 * resource (across releases and expiries), and the token travels with every write so the target
 * can reject a lower one.
 */
export interface Lease {
  resource: string;
  holder: string;
  fencingToken: number;
  ttlMs: number;
  /**
   * Local clock time by which the lease is gone unless renewed. Adapters take it from before the
   * request was sent, so it never falls after the store's own expiry.
   */
  expiresAt: number;
}

export interface LeaseHolder {
  holder: string;
  fencingToken: number;
}

export interface AcquireOptions {
  /**
   * The grant's token is above this: the highest token the writes' targets have seen (the job's
   * state, the CAS fence). An in-process store forgets its counters on restart, and a wiped
   * Redis does too; without a floor the next token could be one the targets already refused.
   */
  tokenAbove?: number;
}

export interface LeaseManager {
  /**
   * Grants the resource with a new fencing token; undefined while anyone holds it, this holder
   * included (a holder keeps its lease with renew, not by acquiring again).
   */
  acquire(resource: string, holder: string, ttlMs: number, options?: AcquireOptions): Promise<Lease | undefined>;
  /** Extends the lease by its ttl from now; undefined once lost (expired, or granted to another). */
  renew(lease: Lease): Promise<Lease | undefined>;
  /** Frees the resource if this lease still holds it; true when it did. Never touches another grant. */
  release(lease: Lease): Promise<boolean>;
  holderOf(resource: string): Promise<LeaseHolder | undefined>;
  /** Afterwards every call rejects with TE_ERR_UNAVAILABLE. */
  close(): Promise<void>;
}

/** Arguments every adapter refuses alike; a bad ttl is a caller's bug, not a store failure. */
export function checkLeaseRequest(resource: string, holder: string, ttlMs: number): void {
  if (resource === '' || holder === '') throw new TorrentEdgeError('TE_ERR_VALIDATION', 'a lease needs a resource and a holder');
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw new TorrentEdgeError('TE_ERR_VALIDATION', `lease ttl must be a positive whole number of milliseconds, not ${ttlMs}`, { ttlMs });
  }
}

export const leaseManagerClosed = (): TorrentEdgeError => new TorrentEdgeError('TE_ERR_UNAVAILABLE', 'the lease manager is closed');
