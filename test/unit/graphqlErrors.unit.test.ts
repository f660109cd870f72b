import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPubSub } from '@graphql-yoga/subscription';
import pino from 'pino';
import { TorrentEdgeError } from '../../src/errors.ts';
import type { GraphqlDeps } from '../../src/graphql/graphqlDeps.ts';
import type { GraphqlTopics } from '../../src/graphql/pubsub.ts';
import { createGraphqlServer } from '../../src/graphql/yogaServer.ts';

/** A yoga server over read models that fail: one with a secret in its message, one with a stable code. */
function serverWith(development: boolean) {
  const logged: unknown[] = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  const deps = {
    logger,
    clock: () => new Date(),
    development,
    shutdown: new AbortController().signal,
    pubsub: createPubSub<GraphqlTopics>(),
    fleet: { totals: async () => { throw new Error('connection to db.internal:5432 as te_admin failed'); } },
    nodes: { queries: { listNodes: async () => { throw new TorrentEdgeError('TE_ERR_UNAVAILABLE', 'the read model is rebuilding'); } } },
  } as unknown as GraphqlDeps;
  const yoga = createGraphqlServer(deps);
  const run = async (query: string) => {
    const response = await yoga.fetch('http://localhost/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) }, { principal: { subject: 'sre', scopes: ['read'] } });
    return (await response.json()) as { errors: Array<{ message: string; extensions?: Record<string, unknown> }> };
  };
  return { run, logged };
}

describe('GraphQL errors', () => {
  it('masks unexpected errors outside development, and logs them in full', async () => {
    const { run, logged } = serverWith(false);
    const { errors } = await run('{ fleet { nodes } }');
    assert.equal(errors[0]!.message, 'Unexpected error.');
    assert.doesNotMatch(JSON.stringify(errors), /db\.internal|te_admin/);
    assert.match(JSON.stringify(logged), /db\.internal/);
  });

  it('shows the original message in development', async () => {
    const { errors } = await serverWith(true).run('{ fleet { nodes } }');
    assert.match(JSON.stringify(errors), /db\.internal/);
  });

  it('passes expected failures through with their stable code and retriable flag', async () => {
    const { errors } = await serverWith(false).run('{ nodes { id } }');
    assert.equal(errors[0]!.message, 'the read model is rebuilding');
    assert.deepEqual(errors[0]!.extensions, { code: 'TE_ERR_UNAVAILABLE', retriable: true });
  });

  it('refuses a mutation to a read-only token with TE_ERR_FORBIDDEN', async () => {
    const { errors } = await serverWith(false).run('mutation { startTransfer(id: "00000000-0000-0000-0000-000000000000") { id } }');
    assert.equal(errors[0]!.extensions?.code, 'TE_ERR_FORBIDDEN');
  });
});
