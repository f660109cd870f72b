import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import pino from 'pino';
import { Registry, type Counter } from 'prom-client';
import { holdLease } from '../../src/leases/fencedLease.ts';
import { createLeaseMetrics } from '../../src/leases/leaseMetrics.ts';
import type { LeaseManager } from '../../src/leases/leaseManager.ts';
import type { LeaseLossReason } from '../../src/leases/leaseMetrics.ts';
import { createRedisLeaseManager, leaseKeys } from '../../src/leases/redisLeaseManager.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { leaseManagerContract } from '../contracts/leaseManager.contract.ts';
import { waitFor } from '../helpers/waitFor.ts';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// One namespace per test file, so parallel files and earlier runs never meet; removed at the end.
const keyPrefix = `te-test:${randomBytes(6).toString('hex')}:lease:`;
const resource = () => `volume-a:transfer-${randomUUID()}`;
const isUnavailable = (error: unknown) => (error as { code?: unknown }).code === 'TE_ERR_UNAVAILABLE' && /Redis/.test(String(error));
const count = async (counter: Counter<string>, reason: string) =>
  (await counter.get()).values.find((each) => each.labels.reason === reason)?.value ?? 0;

let admin: Redis; // the tests' own client, to look at and tamper with the adapter's keys
before(() => {
  admin = new Redis(redisUrl);
  admin.on('error', () => {}); // a failure shows in the command that fails
});
after(async () => {
  const keys = await admin.keys(`${keyPrefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  assert.deepEqual(await admin.keys(`${keyPrefix}*`), [], 'no lease keys left behind');
  await admin.quit();
});

leaseManagerContract('Redis', async () => createRedisLeaseManager({ logger: silentLogger() }, { redis: redisUrl, keyPrefix }));

describe('Redis lease manager', () => {
  const metrics = createLeaseMetrics(new Registry());
  let leases: LeaseManager;
  before(() => (leases = createRedisLeaseManager({ logger: silentLogger(), metrics }, { redis: redisUrl, keyPrefix })));
  after(() => leases.close());

  it('keeps its keys under the prefix, with the token counter surviving the lease key', async () => {
    const key = resource();
    const lease = await leases.acquire(key, 'worker-a', 60_000);
    assert.ok(lease);
    const keys = leaseKeys(keyPrefix, key);
    assert.equal(await admin.get(keys.holder), `${lease.fencingToken}:worker-a`);
    assert.equal(Number(await admin.get(keys.token)), lease.fencingToken);
    assert.ok((await admin.pttl(keys.holder)) > 0, 'the lease key expires on its own');
    assert.equal(await admin.pttl(keys.token), -1, 'the counter never expires');
  });

  it('a lease whose key was deleted behind its back fails to renew, counts as expired, and the next token is higher', async () => {
    const key = resource();
    const lease = await leases.acquire(key, 'worker-a', 60_000);
    assert.ok(lease);
    const before = await count(metrics.lossesTotal, 'expired');
    await admin.del(leaseKeys(keyPrefix, key).holder);
    assert.equal(await leases.renew(lease), undefined);
    assert.equal(await count(metrics.lossesTotal, 'expired'), before + 1);
    const next = await leases.acquire(key, 'worker-b', 60_000);
    assert.ok(next && next.fencingToken > lease.fencingToken);
  });

  it('a lease whose key was changed behind its back fails to renew, counts as taken, and its release leaves the other value', async () => {
    const key = resource();
    const lease = await leases.acquire(key, 'worker-a', 60_000);
    assert.ok(lease);
    const before = await count(metrics.lossesTotal, 'taken');
    const holderKey = leaseKeys(keyPrefix, key).holder;
    await admin.set(holderKey, `${lease.fencingToken + 1}:intruder`, 'PX', 60_000);
    assert.equal(await leases.renew(lease), undefined);
    assert.equal(await count(metrics.lossesTotal, 'taken'), before + 1);
    assert.equal(await leases.release(lease), false);
    assert.deepEqual(await leases.holderOf(key), { holder: 'intruder', fencingToken: lease.fencingToken + 1 });
  });

  it('tells a held lease it was lost, with the reason, when its key changes or goes', async () => {
    for (const [reason, tamper] of [
      ['taken', (holderKey: string) => admin.set(holderKey, '999:intruder', 'PX', 60_000)],
      ['expired', (holderKey: string) => admin.del(holderKey)],
    ] as const) {
      const key = resource();
      const lease = await leases.acquire(key, 'worker-a', 300);
      assert.ok(lease);
      const lost: LeaseLossReason[] = [];
      const held = holdLease({ leases }, lease, { onLost: (why) => lost.push(why) });
      await tamper(leaseKeys(keyPrefix, key).holder);
      await waitFor(`the loss (${reason})`, () => lost.length > 0, 5_000);
      assert.deepEqual(lost, [reason]);
      assert.equal(held.isHeld(), false);
      assert.equal(await held.release(), false);
    }
  });

  it('reports a lost connection as a loss once the lease runs out', async () => {
    const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    const borrowed = createRedisLeaseManager({ logger: silentLogger() }, { redis: client, keyPrefix });
    const lease = await borrowed.acquire(resource(), 'worker-a', 300);
    assert.ok(lease);
    let lost: LeaseLossReason | undefined;
    const held = holdLease({ leases: borrowed }, lease, { onLost: (why) => (lost = why) });
    client.disconnect(); // every command now fails at once, as when Redis is gone
    await waitFor('the loss', () => lost, 5_000);
    assert.equal(lost, 'error');
    assert.equal(held.isHeld(), false);
    await borrowed.close();
  });

  it('leaves a client it was given open on close, without its error listener', async () => {
    const client = new Redis(redisUrl);
    client.on('error', () => {});
    const listeners = client.listenerCount('error');
    const borrowed = createRedisLeaseManager({ logger: silentLogger() }, { redis: client, keyPrefix });
    assert.equal(client.listenerCount('error'), listeners + 1);
    assert.ok(await borrowed.acquire(resource(), 'worker-a', 60_000));
    await borrowed.close();
    assert.equal(client.listenerCount('error'), listeners);
    assert.equal(await client.ping(), 'PONG');
    await client.quit();
  });

  it('fails fast with TE_ERR_UNAVAILABLE when Redis refuses the connection, and logs the connection errors', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, new Writable({ write: (chunk: Buffer, _encoding, done) => done(void lines.push(chunk.toString())) }));
    const refused = createRedisLeaseManager(
      { logger },
      { redis: 'redis://127.0.0.1:1', keyPrefix, redisOptions: { maxRetriesPerRequest: 1, retryStrategy: () => 20, connectTimeout: 500 } },
    );
    const started = performance.now();
    await assert.rejects(refused.acquire(resource(), 'worker-a', 1_000), isUnavailable);
    const lease = { resource: resource(), holder: 'worker-a', fencingToken: 1, ttlMs: 1_000, expiresAt: Date.now() + 1_000 };
    await assert.rejects(refused.renew(lease), isUnavailable);
    await assert.rejects(refused.release(lease), isUnavailable);
    await assert.rejects(refused.holderOf(lease.resource), isUnavailable);
    assert.ok(performance.now() - started < 5_000, `failed after ${Math.round(performance.now() - started)} ms`);
    assert.ok(lines.some((line) => line.includes('lease store (Redis) connection error')), 'the error listener logged');
    await refused.close();
  });
});
