import { Repeater } from '@graphql-yoga/subscription';
import type { GraphqlDeps } from './graphqlDeps.ts';
import type { FleetCommit, TransferCommit } from './pubsub.ts';

/**
 * Ends a subscription when the api closes: an SSE response never ends by itself, and the HTTP
 * server's close waits for every open response.
 */
export function untilShutdown<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncIterable<T> {
  return new Repeater<T>(async (push, stop) => {
    const iterator = source[Symbol.asyncIterator]();
    const onAbort = () => stop();
    if (signal.aborted) stop();
    else signal.addEventListener('abort', onAbort, { once: true });
    let done = false;
    void stop.then(() => {
      done = true;
      signal.removeEventListener('abort', onAbort);
      void iterator.return?.();
    });
    while (!done) {
      const next = await Promise.race([iterator.next(), stop.then(() => undefined)]);
      if (next === undefined || next.done === true) break;
      // A source ending under a shutdown may hand over an empty value; it is no event.
      if (next.value === undefined || next.value === null) continue;
      await push(next.value);
    }
    stop();
  });
}

export function subscriptionResolvers(deps: GraphqlDeps) {
  return {
    Subscription: {
      transferProgress: {
        subscribe: (_: unknown, args: { id: string }) => untilShutdown(deps.pubsub.subscribe('te.transferProgress', args.id), deps.shutdown),
        resolve: (commit: TransferCommit) => commit,
      },
      fleetActivity: {
        subscribe: () => untilShutdown(deps.pubsub.subscribe('te.fleetActivity'), deps.shutdown),
        resolve: (commit: FleetCommit) => commit,
      },
    },
    // The push says what moved; the read model, committed before the push, says where it is now.
    TransferProgress: {
      transfer: async (commit: TransferCommit) => (await deps.queries.getTransfer(commit.transferId)) ?? null,
    },
    FleetActivity: {
      fleet: () => deps.fleet.totals(),
    },
  };
}
