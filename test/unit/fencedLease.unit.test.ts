import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { TorrentEdgeError } from '../../src/errors.ts';
import { holdLease } from '../../src/leases/fencedLease.ts';
import { createInProcessLeaseManager } from '../../src/leases/inProcessLeaseManager.ts';
import type { Lease, LeaseManager } from '../../src/leases/leaseManager.ts';
import { createLeaseMetrics, type LeaseLossReason } from '../../src/leases/leaseMetrics.ts';
import { waitFor } from '../helpers/waitFor.ts';

/** An in-process manager whose calls are counted and may be replaced one by one. */
function leaseManager(overrides: Partial<LeaseManager> = {}) {
  const inner = createInProcessLeaseManager();
  const calls = { renew: 0, renewed: [] as string[], release: [] as Lease[] };
  const leases: LeaseManager = {
    ...inner,
    ...overrides,
    renew: (lease) => {
      calls.renew++;
      calls.renewed.push(lease.resource);
      return (overrides.renew ?? inner.renew)(lease);
    },
    release: (lease) => {
      calls.release.push(lease);
      return (overrides.release ?? inner.release)(lease);
    },
  };
  return { leases, calls, inner };
}

async function granted(leases: LeaseManager, ttlMs: number, resource = 'volume-a:transfer-1'): Promise<Lease> {
  const lease = await leases.acquire(resource, 'worker-a', ttlMs);
  assert.ok(lease);
  return lease;
}

const unavailable = () => new TorrentEdgeError('TE_ERR_UNAVAILABLE', 'lease store (Redis) unavailable');

describe('fenced lease', () => {
  it('renews a third of the ttl at a time and so stays held past the original expiry', async () => {
    const { leases, calls } = leaseManager();
    const lease = await granted(leases, 300);
    const lost: LeaseLossReason[] = [];
    const held = holdLease({ leases }, lease, { onLost: (why) => lost.push(why) });
    let wasAlwaysHeld = true;
    await waitFor('the original expiry to pass', () => {
      wasAlwaysHeld &&= held.isHeld();
      return Date.now() > lease.expiresAt + 150;
    });
    assert.ok(wasAlwaysHeld && calls.renew >= 3, `${calls.renew} renewals`);
    assert.equal(held.fencingToken, lease.fencingToken);
    assert.ok(held.current().expiresAt > lease.expiresAt);
    assert.equal(await leases.acquire(lease.resource, 'worker-b', 300), undefined);
    assert.equal(await held.release(), true);
    assert.equal(held.isHeld(), false);
    assert.equal(await leases.holderOf(lease.resource), undefined);
    assert.deepEqual(lost, []);
  });

  it('stops renewing on release', async () => {
    const { leases, calls } = leaseManager();
    const lost: LeaseLossReason[] = [];
    const released = holdLease({ leases }, await granted(leases, 150, 'v:released'), { onLost: (why) => lost.push(why) });
    assert.equal(await released.release(), true);
    const renewalsAfterRelease = calls.renewed.length;
    // A second lease renews on the same schedule: its three renewals give the released one the
    // time for as many, had it kept a timer.
    const other = holdLease({ leases }, await granted(leases, 150, 'v:other'), { onLost: (why) => lost.push(why) });
    await waitFor('three renewals of the other lease', () => calls.renewed.filter((each) => each === 'v:other').length >= 3);
    assert.equal(await other.release(), true);
    assert.deepEqual(calls.renewed.slice(renewalsAfterRelease).filter((each) => each === 'v:released'), []);
    assert.equal(await released.release(), false, 'released once');
    assert.deepEqual(lost, []);
  });

  it('is lost at once, as taken, when a renewal is refused for another holder', async () => {
    const { leases, calls } = leaseManager({ renew: async () => undefined, holderOf: async () => ({ holder: 'worker-b', fencingToken: 9 }) });
    const lost: LeaseLossReason[] = [];
    const held = holdLease({ leases }, await granted(leases, 60_000), { onLost: (why) => lost.push(why), renewEveryMs: 5 });
    await waitFor('the loss', () => lost.length > 0);
    assert.deepEqual(lost, ['taken']);
    assert.equal(held.isHeld(), false);
    assert.equal(calls.renew, 1, 'no renewal after the loss');
    assert.equal(await held.release(), false);
  });

  it('rides out a failed renewal that is followed by a good one before the expiry', async () => {
    let failures = 1;
    const { leases, calls, inner } = leaseManager({
      renew: (lease) => (failures-- > 0 ? Promise.reject(unavailable()) : inner.renew(lease)),
    });
    const lost: LeaseLossReason[] = [];
    const lease = await granted(inner, 1_200);
    const held = holdLease({ leases }, lease, { onLost: (why) => lost.push(why) });
    await waitFor('a renewal after the failed one', () => held.current().expiresAt > lease.expiresAt);
    assert.equal(calls.renew, 2);
    assert.deepEqual(lost, []);
    assert.equal(held.isHeld(), true);
    assert.equal(await held.release(), true);
  });

  it('is lost with reason error, and counted, when the store stays unreachable until the expiry', async () => {
    const metrics = createLeaseMetrics(new Registry());
    const { leases, calls, inner } = leaseManager({ renew: () => Promise.reject(unavailable()) });
    const lease = await granted(inner, 300);
    let lost: LeaseLossReason | undefined;
    const held = holdLease({ leases, metrics }, lease, { onLost: (why) => (lost = why) });
    await waitFor('the loss', () => lost);
    assert.equal(lost, 'error');
    assert.ok(calls.renew >= 2, 'the renewals due before the expiry were tried');
    assert.equal(held.isHeld(), false);
    const errors = (await metrics.lossesTotal.get()).values.find((each) => each.labels.reason === 'error');
    assert.equal(errors?.value, 1);
  });

  it('is lost as expired when a renewal hangs past the expiry, and frees a grant that answers late', async () => {
    let answer: (() => void) | undefined;
    const { leases, calls, inner } = leaseManager({
      renew: (lease) => new Promise((resolve) => (answer = () => resolve({ ...lease, expiresAt: Date.now() + lease.ttlMs }))),
      release: async () => true,
    });
    let lost: LeaseLossReason | undefined;
    holdLease({ leases }, await granted(inner, 90), { onLost: (why) => (lost = why) });
    await waitFor('the loss', () => lost);
    assert.equal(lost, 'expired');
    assert.ok(answer, 'the renewal was sent');
    answer();
    await waitFor('the late grant to be released', () => calls.release.length === 1);
    assert.equal(calls.renew, 1);
  });
});
