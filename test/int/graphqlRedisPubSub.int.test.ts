import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import type { RecordedEvent } from '../../src/events/eventLog.ts';
import { publishCommit } from '../../src/graphql/commitFeed.ts';
import { createGraphqlPubSub, type TransferCommit } from '../../src/graphql/pubsub.ts';
import { silentLogger } from '../../src/observability/logger.ts';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const chunksVerified = (transferId: string, position: number) =>
  ({ streamId: `job-${transferId}.gpu-1`, globalPosition: position, type: 'ChunksVerified', data: { transferId, nodeId: 'gpu-1', fencingToken: 1, source: 'peer', chunkIndexes: [position], bytes: 1024 } }) as unknown as RecordedEvent;

describe('the GraphQL pubsub over Redis (real Redis): commits on one replica reach subscribers on another', () => {
  const withProjector = createGraphqlPubSub({ redisUrl }, { logger: silentLogger() });
  const withoutProjector = createGraphqlPubSub({ redisUrl }, { logger: silentLogger() });
  after(async () => {
    await withProjector.close();
    await withoutProjector.close();
  });

  it('delivers a transfer commit published on one replica to a subscriber of another, and only for its transfer', async () => {
    const transferId = randomUUID();
    const iterator = withoutProjector.pubsub.subscribe('te.transferProgress', transferId)[Symbol.asyncIterator]();
    const received = iterator.next();
    // The Redis SUBSCRIBE is asynchronous: publish until the subscriber is listening (a condition, not a sleep).
    let first: IteratorResult<TransferCommit> | undefined;
    for (let position = 1; first === undefined && position < 200; position += 1) {
      publishCommit(withProjector.pubsub, 'chunks', [chunksVerified(randomUUID(), position), chunksVerified(transferId, position)]);
      first = await Promise.race([received, new Promise<undefined>((resolve) => setTimeout(resolve, 25))]);
    }
    assert.ok(first !== undefined && first.done !== true, 'a commit arrived');
    assert.equal(first.value.transferId, transferId);
    assert.equal(first.value.projection, 'chunks');
    assert.deepEqual(first.value.chunks[0]!.nodeId, 'gpu-1');
    await iterator.return?.();
  });
});
