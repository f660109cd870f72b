import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Lease, LeaseManager } from '../../src/leases/leaseManager.ts';
import { waitFor } from '../helpers/waitFor.ts';

const resource = () => `volume-a:transfer-${randomUUID()}`;
const held = 60_000; // long enough never to run out during a test
const short = 100; // for the tests that wait for an expiry

const isTeError = (code: string) => (error: unknown) => (error as { code?: unknown }).code === code;

/** What every lease adapter must do; `create` returns a manager on a fresh namespace. */
export function leaseManagerContract(adapter: string, create: () => Promise<LeaseManager>): void {
  describe(`lease manager contract: ${adapter}`, () => {
    let leases: LeaseManager;
    before(async () => (leases = await create()));
    after(async () => leases.close());

    /** Polls acquire: the condition an expiry is observed by, with no fixed sleep. */
    const acquireOnceFree = (key: string, holder: string, ttlMs = held) =>
      waitFor(`${holder} to acquire ${key}`, () => leases.acquire(key, holder, ttlMs), 5_000);

    it('grants the first caller and refuses every other holder, the first included, while held', async () => {
      const key = resource();
      const lease = await leases.acquire(key, 'worker-a', held);
      assert.ok(lease);
      assert.equal(lease.resource, key);
      assert.equal(lease.holder, 'worker-a');
      assert.equal(lease.ttlMs, held);
      assert.ok(Number.isSafeInteger(lease.fencingToken) && lease.fencingToken > 0);
      assert.equal(await leases.acquire(key, 'worker-b', held), undefined);
      assert.equal(await leases.acquire(key, 'worker-a', held), undefined);
      assert.deepEqual(await leases.holderOf(key), { holder: 'worker-a', fencingToken: lease.fencingToken });
    });

    it('issues strictly increasing tokens across grant, release and grant', async () => {
      const key = resource();
      const tokens: number[] = [];
      for (const holder of ['worker-a', 'worker-b', 'worker-a']) {
        const lease = await leases.acquire(key, holder, held);
        assert.ok(lease, `${holder} is granted a free resource`);
        tokens.push(lease.fencingToken);
        assert.equal(await leases.release(lease), true);
        assert.equal(await leases.holderOf(key), undefined);
      }
      assert.ok(tokens[0]! < tokens[1]! && tokens[1]! < tokens[2]!, `tokens ${tokens.join(', ')}`);
    });

    it('grants a token above the floor a caller names, and keeps counting from there', async () => {
      const key = resource();
      const first = await leases.acquire(key, 'worker-a', held, { tokenAbove: 41 });
      assert.equal(first?.fencingToken, 42);
      await leases.release(first);
      const second = await leases.acquire(key, 'worker-b', held, { tokenAbove: 3 });
      assert.equal(second?.fencingToken, 43, 'a lower floor does not lower the counter');
      await leases.release(second);
      const third = await leases.acquire(key, 'worker-a', held);
      assert.equal(third?.fencingToken, 44);
    });

    it('issues a higher token after an expiry, and the stale lease neither renews nor disturbs the new holder', async () => {
      const key = resource();
      const stale = await leases.acquire(key, 'worker-a', short);
      assert.ok(stale);
      const next = await acquireOnceFree(key, 'worker-b');
      assert.ok(next.fencingToken > stale.fencingToken);
      assert.equal(await leases.renew(stale), undefined);
      assert.equal(await leases.release(stale), false);
      assert.deepEqual(await leases.holderOf(key), { holder: 'worker-b', fencingToken: next.fencingToken });
      assert.ok(await leases.renew(next), 'the new holder still renews');
    });

    it('a stale lease of the same holder is refused too: the token, not the name, identifies a grant', async () => {
      const key = resource();
      const stale = await leases.acquire(key, 'worker-a', short);
      assert.ok(stale);
      const next = await acquireOnceFree(key, 'worker-a');
      assert.equal(await leases.renew(stale), undefined);
      assert.equal(await leases.release(stale), false);
      assert.deepEqual(await leases.holderOf(key), { holder: 'worker-a', fencingToken: next.fencingToken });
    });

    it('renewal keeps a lease past its original expiry, with the same token', async () => {
      const key = resource();
      const ttlMs = 300;
      const original = await leases.acquire(key, 'worker-a', ttlMs);
      assert.ok(original);
      let lease: Lease = original;
      let lost = false;
      // Renewing every poll (about 10 ms) is far inside the ttl; stop once the original expiry is well past.
      await waitFor('the original expiry to pass', async () => {
        const renewed = await leases.renew(lease);
        if (renewed === undefined) return (lost = true);
        lease = renewed;
        return Date.now() > original.expiresAt + ttlMs / 2;
      });
      assert.equal(lost, false, 'every renewal succeeded');
      assert.equal(lease.fencingToken, original.fencingToken);
      assert.ok(lease.expiresAt > original.expiresAt);
      assert.deepEqual(await leases.holderOf(key), { holder: 'worker-a', fencingToken: original.fencingToken });
      assert.equal(await leases.acquire(key, 'worker-b', held), undefined);
    });

    it('a lease runs out unrenewed: holderOf is empty and renew fails', async () => {
      const key = resource();
      const lease = await leases.acquire(key, 'worker-a', short);
      assert.ok(lease);
      await waitFor('the lease to run out', async () => (await leases.holderOf(key)) === undefined, 5_000);
      assert.equal(await leases.renew(lease), undefined);
    });

    it('release by anyone but the holder does nothing', async () => {
      const key = resource();
      const lease = await leases.acquire(key, 'worker-a', held);
      assert.ok(lease);
      assert.equal(await leases.release({ ...lease, holder: 'worker-b' }), false);
      assert.equal(await leases.release({ ...lease, fencingToken: lease.fencingToken - 1 }), false);
      assert.equal(await leases.release({ ...lease, fencingToken: lease.fencingToken + 1 }), false);
      assert.equal(await leases.renew({ ...lease, holder: 'worker-b' }), undefined);
      assert.deepEqual(await leases.holderOf(key), { holder: 'worker-a', fencingToken: lease.fencingToken });
      assert.equal(await leases.release(lease), true);
      assert.equal(await leases.release(lease), false, 'a second release finds nothing');
      assert.equal(await leases.renew(lease), undefined, 'a released lease does not come back');
    });

    it('grants exactly one of 20 concurrent acquires', async () => {
      const key = resource();
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => leases.acquire(key, `worker-${i}`, held)));
      const granted = results.filter((lease) => lease !== undefined);
      assert.equal(granted.length, 1);
      assert.deepEqual(await leases.holderOf(key), { holder: granted[0]!.holder, fencingToken: granted[0]!.fencingToken });
    });

    it('keeps resources independent', async () => {
      const [one, two] = [resource(), resource()];
      const first = await leases.acquire(one, 'worker-a', held);
      const second = await leases.acquire(two, 'worker-b', held);
      assert.ok(first && second);
      assert.equal(await leases.release(first), true);
      assert.deepEqual(await leases.holderOf(two), { holder: 'worker-b', fencingToken: second.fencingToken });
      assert.equal(await leases.acquire(two, 'worker-a', held), undefined);
      assert.equal(await leases.holderOf(resource()), undefined);
    });

    it('refuses a ttl that is not a positive whole number of milliseconds', async () => {
      for (const ttlMs of [0, -5, 1.5, Number.NaN]) {
        await assert.rejects(leases.acquire(resource(), 'worker-a', ttlMs), isTeError('TE_ERR_VALIDATION'));
      }
    });

    it('rejects every call once closed', async () => {
      const closing = await create();
      const lease = await closing.acquire(resource(), 'worker-a', held);
      assert.ok(lease);
      await closing.close();
      await assert.rejects(closing.acquire(resource(), 'worker-a', held), isTeError('TE_ERR_UNAVAILABLE'));
      await assert.rejects(closing.renew(lease), isTeError('TE_ERR_UNAVAILABLE'));
      await assert.rejects(closing.release(lease), isTeError('TE_ERR_UNAVAILABLE'));
      await assert.rejects(closing.holderOf(lease.resource), isTeError('TE_ERR_UNAVAILABLE'));
      await closing.close(); // idempotent
    });
  });
}
