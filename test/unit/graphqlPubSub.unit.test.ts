import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createGraphqlPubSub, type FleetCommit, type TransferCommit } from '../../src/graphql/pubsub.ts';
import { silentLogger } from '../../src/observability/logger.ts';

const transferCommit: TransferCommit = { transferId: 't-1', projection: 'jobs', position: 1, eventTypes: ['JobLeaseGranted'], chunks: [], committedAt: '2026-12-03T00:00:00.000Z' };
const fleetCommit: FleetCommit = { projection: 'transfers', position: 2, transferIds: ['t-1'], nodeIds: [], eventTypes: ['JobLeaseGranted'], committedAt: '2026-12-03T00:00:00.000Z' };

describe('the GraphQL pubsub (in-process)', () => {
  it('keeps topics apart: a fleet subscriber never receives a transfer commit, however many subscribe', async () => {
    const handle = createGraphqlPubSub({ redisUrl: undefined }, { logger: silentLogger() });
    const { pubsub } = handle;
    const fleet = pubsub.subscribe('te.fleetActivity')[Symbol.asyncIterator]();
    const progress = pubsub.subscribe('te.transferProgress', 't-1')[Symbol.asyncIterator]();
    const fleetNext = fleet.next();
    const progressNext = progress.next();
    pubsub.publish('te.transferProgress', 't-1', transferCommit);
    pubsub.publish('te.fleetActivity', fleetCommit);
    assert.deepEqual((await fleetNext).value, fleetCommit);
    assert.deepEqual((await progressNext).value, transferCommit);
    // Pushes while nobody waits are held for their own subscriber only (a buffer shared by every
    // subscription once handed these to the fleet subscriber).
    pubsub.publish('te.transferProgress', 't-1', { ...transferCommit, position: 3 });
    pubsub.publish('te.transferProgress', 't-1', { ...transferCommit, position: 4 });
    pubsub.publish('te.fleetActivity', { ...fleetCommit, position: 5 });
    const nextFleet = await fleet.next();
    assert.equal((nextFleet.value as FleetCommit).position, 5);
    assert.ok(Array.isArray((nextFleet.value as FleetCommit).transferIds));
    assert.equal(((await progress.next()).value as TransferCommit).position, 3);
    await fleet.return?.();
    await progress.return?.();
    await handle.close();
  });
});
