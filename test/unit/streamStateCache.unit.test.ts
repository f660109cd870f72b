import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EventLog } from '../../src/events/eventLog.ts';
import { createStreamStateCache, loadStreamState, rememberStreamState } from '../../src/commands/streamStateCache.ts';

/** Folds nothing: the state is the revision it was read at, which is all these tests look at. */
const evolver = { initialState: () => 'empty', evolve: (state: string) => state };

describe('the stream state cache', () => {
  it('a read that finishes after a newer append was cached does not put the older state back', async () => {
    const cache = createStreamStateCache();
    let finishRead: () => void = () => {};
    // A log whose read of the stream is held until the test lets it finish, at revision 4.
    const eventLog = { readStream: () => new Promise((resolve) => (finishRead = () => resolve({ revision: 4, events: [] }))) } as unknown as EventLog;
    const reading = loadStreamState(eventLog, cache, evolver, 'transfer-1');
    // Meanwhile a command appended revision 5 and cached the state it decided.
    rememberStreamState(cache, 'transfer-1', { revision: 5, state: 'with segment 11', confirmedAt: Date.now() });
    finishRead();
    assert.equal((await reading).revision, 4, 'the reader gets what it read');
    assert.equal(cache.get('transfer-1')?.revision, 5, 'the cache keeps the newer state');
    assert.equal(cache.get('transfer-1')?.state, 'with segment 11');
  });

  it('a read at the cached revision refreshes when that state was last confirmed', () => {
    const cache = createStreamStateCache();
    rememberStreamState(cache, 's', { revision: 2, state: 'a', confirmedAt: 1000 });
    rememberStreamState(cache, 's', { revision: 2, state: 'a', confirmedAt: 5000 });
    assert.equal(cache.get('s')?.confirmedAt, 5000);
    rememberStreamState(cache, 's', { revision: 2, state: 'a', confirmedAt: 3000 });
    assert.equal(cache.get('s')?.confirmedAt, 5000, 'never moved back');
    rememberStreamState(cache, 's', { revision: 3, state: 'b', confirmedAt: 4000 });
    assert.deepEqual(cache.get('s'), { revision: 3, state: 'b', confirmedAt: 4000 });
  });
});
