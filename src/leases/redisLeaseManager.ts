import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { TorrentEdgeError } from '../errors.ts';
import { checkLeaseRequest, leaseManagerClosed, type AcquireOptions, type Lease, type LeaseManager } from './leaseManager.ts';
import type { LeaseMetrics } from './leaseMetrics.ts';

export interface RedisLeaseManagerOptions {
  /** A client the caller owns (close() leaves it open), or a URL for a client this adapter owns. */
  redis: Redis | string;
  /** Namespaces every key; default 'torrentedge:lease:'. */
  keyPrefix?: string;
  /** For a client made from a URL, over the fail-fast defaults below. */
  redisOptions?: RedisOptions;
  clock?: () => number;
}

// A lease command that waits longer than a fraction of a ttl is worthless, so a client we create
// fails a command within seconds rather than queueing it through a long outage. disconnectTimeout:
// after a refused connection, ioredis's disconnect() arms that timer on the dead socket and never
// clears it; at the default 2 s it kept the process alive for 2 s after close().
const failFast: RedisOptions = { connectTimeout: 2_000, commandTimeout: 2_000, maxRetriesPerRequest: 2, disconnectTimeout: 100 };

/** Both keys of a resource share a hash tag, so one script may touch both on a Redis Cluster too. */
export function leaseKeys(keyPrefix: string, resource: string): { holder: string; token: string } {
  return { holder: `${keyPrefix}{${resource}}:holder`, token: `${keyPrefix}{${resource}}:token` };
}

/** The holder key stores `${fencingToken}:${holder}`: renew and release compare it whole. */
const valueOf = (lease: Lease) => `${lease.fencingToken}:${lease.holder}`;

// SET NX PX is the grant; the counter moves only once it succeeded, and it never expires, so a
// token is never reused for the resource. Scripts run atomically: no grant can slip in between.
const acquireScript = `
local token = math.max(tonumber(redis.call('GET', KEYS[2])) or 0, tonumber(ARGV[3])) + 1
if not redis.call('SET', KEYS[1], token .. ':' .. ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
redis.call('SET', KEYS[2], token)
return token`;
// 1 renewed; 0 the lease is gone; -1 another grant holds the resource.
const renewScript = `
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if current then return -1 end
return 0`;
const releaseScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** The commands defineCommand adds to the client; ioredis cannot type them itself. */
interface LeaseScripts {
  torrentedgeLeaseAcquire(holderKey: string, tokenKey: string, holder: string, ttlMs: number, tokenAbove: number): Promise<number | null>;
  torrentedgeLeaseRenew(holderKey: string, value: string, ttlMs: number): Promise<number>;
  torrentedgeLeaseRelease(holderKey: string, value: string): Promise<number>;
}

/** The Redis adapter: one key per held resource, expiring on its own, plus a token counter. */
export function createRedisLeaseManager(deps: { logger: Logger; metrics?: LeaseMetrics }, options: RedisLeaseManagerOptions): LeaseManager {
  const owned = typeof options.redis === 'string';
  const client = typeof options.redis === 'string' ? new Redis(options.redis, { ...failFast, ...options.redisOptions }) : options.redis;
  const keyPrefix = options.keyPrefix ?? 'torrentedge:lease:';
  const clock = options.clock ?? Date.now;
  let closed = false;
  // Without a listener ioredis reports each failed reconnect on stderr; the failed commands reject anyway.
  const onError = (error: Error) => deps.logger.warn({ err: error }, 'lease store (Redis) connection error');
  client.on('error', onError);
  client.defineCommand('torrentedgeLeaseAcquire', { numberOfKeys: 2, lua: acquireScript });
  client.defineCommand('torrentedgeLeaseRenew', { numberOfKeys: 1, lua: renewScript });
  client.defineCommand('torrentedgeLeaseRelease', { numberOfKeys: 1, lua: releaseScript });
  const scripts = client as unknown as LeaseScripts;

  async function call<T>(operation: string, resource: string, run: () => Promise<T>): Promise<T> {
    if (closed) throw leaseManagerClosed();
    try {
      return await run();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new TorrentEdgeError('TE_ERR_UNAVAILABLE', `lease store (Redis) unavailable: ${operation} of ${resource} failed: ${reason}`, {
        operation,
        resource,
      });
    }
  }

  return {
    async acquire(resource: string, holder: string, ttlMs: number, acquireOptions: AcquireOptions = {}) {
      checkLeaseRequest(resource, holder, ttlMs);
      const keys = leaseKeys(keyPrefix, resource);
      const sentAt = clock();
      const token = await call('acquire', resource, () => scripts.torrentedgeLeaseAcquire(keys.holder, keys.token, holder, ttlMs, acquireOptions.tokenAbove ?? 0));
      if (token === null) return undefined;
      deps.metrics?.grantsTotal.inc();
      return { resource, holder, fencingToken: token, ttlMs, expiresAt: sentAt + ttlMs };
    },

    async renew(lease: Lease) {
      checkLeaseRequest(lease.resource, lease.holder, lease.ttlMs);
      const sentAt = clock();
      const outcome = await call('renew', lease.resource, () =>
        scripts.torrentedgeLeaseRenew(leaseKeys(keyPrefix, lease.resource).holder, valueOf(lease), lease.ttlMs),
      );
      if (outcome !== 1) {
        deps.metrics?.lossesTotal.inc({ reason: outcome === 0 ? 'expired' : 'taken' });
        return undefined;
      }
      deps.metrics?.renewalsTotal.inc();
      return { ...lease, expiresAt: sentAt + lease.ttlMs };
    },

    async release(lease: Lease) {
      const key = leaseKeys(keyPrefix, lease.resource).holder;
      return (await call('release', lease.resource, () => scripts.torrentedgeLeaseRelease(key, valueOf(lease)))) === 1;
    },

    async holderOf(resource: string) {
      const value = await call('holderOf', resource, () => client.get(leaseKeys(keyPrefix, resource).holder));
      if (value === null) return undefined;
      const separator = value.indexOf(':');
      const fencingToken = Number(value.slice(0, separator));
      if (separator < 1 || !Number.isSafeInteger(fencingToken)) {
        throw new TorrentEdgeError('TE_ERR_INTERNAL', `lease key of ${resource} holds a value this adapter did not write`, { resource });
      }
      return { holder: value.slice(separator + 1), fencingToken };
    },

    async close() {
      if (closed) return;
      closed = true;
      if (!owned) {
        client.off('error', onError);
        return;
      }
      // quit() on a client that is not connected would wait for a reconnect; nothing is owed to it.
      if (client.status !== 'ready') return client.disconnect();
      await client.quit().catch(() => client.disconnect());
    },
  };
}
