import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearer, startTestControlPlane, tokens, type TestControlPlane } from '../helpers/testControlPlane.ts';
import { nodeTokenEntries, startSimulatedRollout } from '../helpers/simulatedRollout.ts';
import { graphql } from '../helpers/graphqlClients.ts';
import { waitFor } from '../helpers/waitFor.ts';

const transferFields = `id name status source totalBytes pieceLength pieceCount progress failureReason requestId createdBy createdAt updatedAt
  nodes { total completed failed } bytes { verified origin peer cas }
  jobs { nodeId state role workerId fencingToken chunksVerified progress bytes { origin peer cas } failureReason assignedAt updatedAt completedAt }`;
type RestJob = Record<string, unknown> & { state: string; highestFencingToken: number };
type RestTransfer = Record<string, unknown> & { jobs: RestJob[]; bytes: { origin: number; peer: number; cas: number } };

const createMutation = `mutation($input: CreateTransferInput!, $requestId: String) { createTransfer(input: $input, requestId: $requestId) { id status requestId replayed } }`;

describe('GraphQL queries and mutations agree with REST (embedded store, real HTTP)', () => {
  let t: TestControlPlane;
  let url: string;
  let transferId: string;
  before(async () => {
    t = await startTestControlPlane('pglite', { extraTokens: nodeTokenEntries(['gpu-1', 'gpu-2', 'gpu-3']) });
    url = await t.plane.listen();
    const rollout = await startSimulatedRollout(t, ['gpu-1', 'gpu-2', 'gpu-3'], { pieceCount: 8, pieceLength: 16 * 1024 });
    transferId = rollout.transferId;
    await rollout.reportChunks('gpu-1', [0, 1, 2, 3, 4, 5, 6, 7]);
    await rollout.reportChunks('gpu-2', [0, 1, 2], 'peer');
    await rollout.reportChunks('gpu-3', [4], 'cas');
    await rollout.complete('gpu-1');
    await waitFor('the jobs projected', async () => (await rest(`/api/transfers/${transferId}`)).jobs.some((job) => job.state === 'completed'));
    await waitFor('the chunks projected', async () => Number((await t.plane.db.query<{ n: number }>('SELECT count(*)::int AS n FROM te_chunks')).rows[0]!.n) === 12);
  });
  after(() => t.close());

  const rest = async <T = RestTransfer>(path: string): Promise<T> => (await t.plane.app.inject({ method: 'GET', url: path, headers: bearer(tokens.reader) })).json<T>();
  type Page = { items: Array<{ id: string }>; nextCursor: string | null };

  it('transfer(id) with its jobs is the REST view; fencing tokens, bytes by source and chunk maps are there', async () => {
    const { body } = await graphql<{ transfer: Record<string, unknown> & { jobs: Array<Record<string, unknown>>; chunks: unknown; bytesSavedAtOrigin: number } }>(url, tokens.reader,
      `query($id: ID!) { transfer(id: $id) { ${transferFields} bytesSavedAtOrigin chunks { nodeId map verified bySource { origin peer cas } } } }`, { id: transferId });
    assert.equal(body.errors, undefined);
    const expected = await rest(`/api/transfers/${transferId}`);
    const { chunks, bytesSavedAtOrigin, ...transfer } = body.data!.transfer;
    const restJobs = expected.jobs.map(({ highestFencingToken, ...job }) => ({ ...job, fencingToken: highestFencingToken }));
    assert.deepEqual({ ...transfer, jobs: transfer.jobs }, { ...expected, jobs: restJobs });
    assert.equal(bytesSavedAtOrigin, expected.bytes.peer + expected.bytes.cas);
    assert.deepEqual(chunks, [
      { nodeId: 'gpu-1', map: 'oooooooo', verified: 8, bySource: { origin: 8, peer: 0, cas: 0 } },
      { nodeId: 'gpu-2', map: 'ppp-----', verified: 3, bySource: { origin: 0, peer: 3, cas: 0 } },
      { nodeId: 'gpu-3', map: '----c---', verified: 1, bySource: { origin: 0, peer: 0, cas: 1 } },
    ]);
  });

  it('transfers pages like GET /api/transfers, and events are the audit view', async () => {
    for (let i = 0; i < 3; i += 1) await t.plane.app.inject({ method: 'POST', url: '/api/torrent/create', headers: bearer(tokens.writer), payload: { source: { url: `https://origin.example/${i}.bin` } } });
    await waitFor('four transfers projected', async () => (await rest<Page>('/api/transfers?limit=10')).items.length === 4);
    const first = await graphql<{ transfers: { items: Array<{ id: string }>; nextCursor: string } }>(url, tokens.reader, '{ transfers(first: 3) { items { id } nextCursor } }');
    const restFirst = await rest<Page>('/api/transfers?limit=3');
    assert.deepEqual(first.body.data!.transfers.items.map((item) => item.id), restFirst.items.map((item) => item.id));
    assert.equal(first.body.data!.transfers.nextCursor, restFirst.nextCursor);
    const second = await graphql<{ transfers: { items: Array<{ id: string }> } }>(url, tokens.reader, 'query($after: String) { transfers(first: 3, after: $after) { items { id } } }', { after: restFirst.nextCursor });
    assert.deepEqual(second.body.data!.transfers.items.map((item) => item.id), [transferId]);
    const running = await graphql<{ transfers: { items: Array<{ id: string }> } }>(url, tokens.reader, '{ transfers(status: "running") { items { id } } }');
    assert.deepEqual(running.body.data!.transfers.items.map((item) => item.id), [transferId]);

    const events = await graphql<{ transfer: { events: Array<{ eventId: string; type: string; metadata: { requestId: string } }> } }>(url, tokens.reader, 'query($id: ID!) { transfer(id: $id) { events { eventId type metadata } } }', { id: transferId });
    const restEvents = (await rest<{ events: Array<{ eventId: string }> }>(`/api/transfers/${transferId}/events`)).events;
    assert.deepEqual(events.body.data!.transfer.events.map((event) => event.eventId), restEvents.map((event) => event.eventId));
  });

  it('nodes carry labels and current jobs; fleet totals count bytes saved at the origin', async () => {
    const { body } = await graphql<{ nodes: Array<{ id: string; labels: unknown; casVolume: string; jobs: Array<{ transferId: string; state: string }> }>; fleet: Record<string, unknown> }>(url, tokens.reader,
      '{ nodes { id labels { key value } casVolume jobs { transferId state } } fleet { transfers nodes activeJobs bytes { origin peer cas } bytesSavedAtOrigin } }');
    const restNodes = (await rest<{ items: Array<{ nodeId: string }> }>('/api/nodes')).items;
    assert.deepEqual(body.data!.nodes.map((node) => node.id), restNodes.map((node) => node.nodeId));
    assert.deepEqual(body.data!.nodes[0]!.labels, [{ key: 'rack', value: 'r1' }]);
    assert.deepEqual(body.data!.nodes.map((node) => node.jobs.map((job) => job.state)), [['completed'], ['leased'], ['leased']]);
    const transfer = await rest(`/api/transfers/${transferId}`);
    assert.deepEqual(body.data!.fleet, { transfers: 4, nodes: 3, activeJobs: 2, bytes: { origin: transfer.bytes.origin, peer: transfer.bytes.peer, cas: transfer.bytes.cas }, bytesSavedAtOrigin: transfer.bytes.peer + transfer.bytes.cas });
  });

  it('mutations are idempotent like REST: the same request id returns the original result, across both APIs', async () => {
    const input = { source: { url: 'https://origin.example/idempotent.bin' }, name: 'idem', targets: { kind: 'selector', labels: [{ key: 'rack', value: 'r1' }] } };
    const headers = { 'x-request-id': 'gql-create-001' };
    const first = await graphql<{ createTransfer: { id: string; replayed: boolean; requestId: string } }>(url, tokens.writer, createMutation, { input }, headers);
    assert.equal(first.body.errors, undefined, JSON.stringify(first.body.errors));
    assert.deepEqual({ ...first.body.data!.createTransfer, id: undefined }, { id: undefined, status: 'requested', requestId: 'gql-create-001', replayed: false });
    const again = await graphql<{ createTransfer: { id: string; replayed: boolean } }>(url, tokens.writer, createMutation, { input }, headers);
    assert.deepEqual(again.body.data!.createTransfer, { ...first.body.data!.createTransfer, replayed: true });
    // The same intent over REST, with the same request id: one command, not two.
    const viaRest = await t.plane.app.inject({ method: 'POST', url: '/api/torrent/create', headers: { ...bearer(tokens.writer), ...headers }, payload: { source: input.source, name: 'idem', targets: { kind: 'selector', labels: { rack: 'r1' } } } });
    assert.equal(viaRest.statusCode, 201);
    assert.equal(viaRest.json<{ id: string }>().id, first.body.data!.createTransfer.id);
    assert.equal(viaRest.headers['idempotent-replayed'], 'true');
    const other = await graphql(url, tokens.writer, createMutation, { input: { ...input, name: 'other' } }, headers);
    assert.equal(other.body.errors?.[0]?.extensions?.code, 'TE_ERR_IDEMPOTENCY_MISMATCH');
    // The argument wins over the header.
    const byArgument = await graphql<{ createTransfer: { requestId: string; replayed: boolean } }>(url, tokens.writer, createMutation, { input, requestId: 'gql-create-002' }, headers);
    assert.deepEqual([byArgument.body.data!.createTransfer.requestId, byArgument.body.data!.createTransfer.replayed], ['gql-create-002', false]);
  });

  it('lifecycle mutations go through the same handlers: replays, rejections and scopes as REST', async () => {
    const pause = `mutation($id: ID!, $requestId: String) { pauseTransfer(id: $id, requestId: $requestId) { id status replayed } }`;
    const paused = await graphql<{ pauseTransfer: { status: string; replayed: boolean } }>(url, tokens.writer, pause, { id: transferId, requestId: 'gql-pause-1' });
    assert.deepEqual(paused.body.data!.pauseTransfer, { id: transferId, status: 'paused', replayed: false });
    const replay = await graphql<{ pauseTransfer: { replayed: boolean } }>(url, tokens.writer, pause, { id: transferId, requestId: 'gql-pause-1' });
    assert.equal(replay.body.data!.pauseTransfer.replayed, true);
    const cancelled = await graphql(url, tokens.writer, 'mutation($id: ID!) { cancelTransfer(id: $id, reason: "rolled back") { status } }', { id: transferId });
    assert.deepEqual(cancelled.body.data, { cancelTransfer: { status: 'cancelled' } });
    const resumed = await graphql(url, tokens.writer, 'mutation($id: ID!) { resumeTransfer(id: $id) { status } }', { id: transferId });
    assert.equal(resumed.body.errors?.[0]?.extensions?.code, 'TE_ERR_ILLEGAL_TRANSITION');
    const forbidden = await graphql(url, tokens.reader, createMutation, { input: { source: { url: 'https://origin.example/x' } } });
    assert.equal(forbidden.body.errors?.[0]?.extensions?.code, 'TE_ERR_FORBIDDEN');
    const invalid = await graphql(url, tokens.writer, createMutation, { input: { source: { url: 'https://origin.example/x' }, magnetURI: 'magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567' } });
    assert.equal(invalid.body.errors?.[0]?.extensions?.code, 'TE_ERR_VALIDATION');
    const badId = await graphql(url, tokens.writer, createMutation, { input: { source: { url: 'https://origin.example/x' } }, requestId: 'bad id\r\n' });
    assert.equal(badId.body.errors?.[0]?.extensions?.code, 'TE_ERR_INVALID_REQUEST_ID');
  });

  it('refuses queries past the alias and cost limits, and unauthenticated queries', async () => {
    const aliases = Array.from({ length: 16 }, (_, i) => `a${i}: fleet { nodes }`).join(' ');
    const tooManyAliases = await graphql(url, tokens.reader, `{ ${aliases} }`);
    assert.match(tooManyAliases.body.errors?.[0]?.message ?? '', /aliases/i);
    const heavy = `transfers(first: 200) { items { ${transferFields} chunks { nodeId map } events { type data metadata } } }`;
    const costly = await graphql(url, tokens.reader, `{ ${Array.from({ length: 10 }, (_, i) => `t${i}: ${heavy}`).join(' ')} }`);
    assert.match(costly.body.errors?.[0]?.message ?? '', /cost/i);
    assert.equal((await graphql(url, undefined, '{ fleet { nodes } }')).status, 401);
  });
});
