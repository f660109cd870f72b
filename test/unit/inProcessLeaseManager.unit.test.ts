import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry, type Counter } from 'prom-client';
import { createInProcessLeaseManager } from '../../src/leases/inProcessLeaseManager.ts';
import { createLeaseMetrics } from '../../src/leases/leaseMetrics.ts';
import { leaseManagerContract } from '../contracts/leaseManager.contract.ts';

leaseManagerContract('in-process (embedded)', async () => createInProcessLeaseManager());

/** A clock the test moves by hand, so expiry boundaries are exact. */
function manualClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

const count = async (counter: Counter<string>, reason?: string) =>
  (await counter.get()).values.find((each) => reason === undefined || each.labels.reason === reason)?.value ?? 0;

describe('in-process lease manager on its clock', () => {
  it('holds a lease until exactly its expiry, and a renewal moves the expiry from the time it was made', async () => {
    const clock = manualClock();
    const leases = createInProcessLeaseManager({}, { clock: clock.now });
    const lease = await leases.acquire('v:t', 'worker-a', 100);
    assert.ok(lease);
    assert.equal(lease.expiresAt, clock.now() + 100);
    clock.advance(99);
    assert.equal(await leases.acquire('v:t', 'worker-b', 100), undefined, 'held 1 ms before its expiry');
    const renewed = await leases.renew(lease);
    assert.ok(renewed);
    assert.equal(renewed.expiresAt, clock.now() + 100);
    clock.advance(100);
    assert.equal(await leases.renew(renewed), undefined, 'gone at its expiry');
    const next = await leases.acquire('v:t', 'worker-b', 100);
    assert.equal(next?.fencingToken, lease.fencingToken + 1);
  });

  it('never lowers a token: many grants, releases and expiries in a row', async () => {
    const clock = manualClock();
    const leases = createInProcessLeaseManager({}, { clock: clock.now });
    let previous = 0;
    for (let i = 0; i < 50; i++) {
      const lease = await leases.acquire('v:t', `worker-${i % 3}`, 10);
      assert.ok(lease && lease.fencingToken > previous);
      previous = lease.fencingToken;
      if (i % 2 === 0) await leases.release(lease);
      else clock.advance(10);
    }
  });

  it('counts grants, renewals and refused renewals by reason', async () => {
    const clock = manualClock();
    const metrics = createLeaseMetrics(new Registry());
    const leases = createInProcessLeaseManager({ metrics }, { clock: clock.now });
    assert.equal((await metrics.lossesTotal.get()).values.length, 3, 'every reason is exported from the start');
    const first = await leases.acquire('v:t', 'worker-a', 100);
    assert.ok(first);
    await leases.renew(first);
    clock.advance(100);
    await leases.renew(first); // gone
    const second = await leases.acquire('v:t', 'worker-b', 100);
    await leases.renew(first); // another grant holds it
    await leases.acquire('v:t', 'worker-c', 100); // refused: not a grant
    assert.ok(second);
    assert.equal(await count(metrics.grantsTotal), 2);
    assert.equal(await count(metrics.renewalsTotal), 1);
    assert.equal(await count(metrics.lossesTotal, 'expired'), 1);
    assert.equal(await count(metrics.lossesTotal, 'taken'), 1);
    assert.equal(await count(metrics.lossesTotal, 'error'), 0);
  });
});
