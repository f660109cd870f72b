import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions } from 'fastify';
import { bearer, startTestControlPlane, tokens, type TestControlPlane } from '../helpers/testControlPlane.ts';

const briefMagnet = 'magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=llama3-70b-checkpoint.safetensors';

describe('transfers REST api (embedded store, inject)', () => {
  let t: TestControlPlane;
  before(async () => (t = await startTestControlPlane('pglite')));
  after(() => t.close());

  const inject = (options: InjectOptions) => t.plane.app.inject(options);
  const eventCount = async () => Number((await t.plane.db.query<{ n: number }>('SELECT count(*)::int AS n FROM te_events')).rows[0]!.n);
  const create = (body: unknown, requestId: string = randomUUID(), token: string = tokens.writer) =>
    inject({ method: 'POST', url: '/api/torrent/create', headers: { ...bearer(token), 'x-request-id': requestId }, payload: body as object });
  const projected = async (position?: number) =>
    t.plane.projector!.waitForPosition(position ?? (await t.plane.eventLog.headPosition()));

  it('scopes request ids to their caller: another principal cannot spend (or replay) my X-Request-ID', async () => {
    const requestId = `shared-${randomUUID()}`;
    const mine = await create({ source: { url: 'https://origin.example/a.bin' } }, requestId, tokens.writer);
    const theirs = await create({ source: { url: 'https://origin.example/b.bin' } }, requestId, tokens.admin);
    assert.equal(mine.statusCode, 201);
    assert.equal(theirs.statusCode, 201, 'no 409: the key is per caller');
    assert.notEqual(mine.json<{ id: string }>().id, theirs.json<{ id: string }>().id);
    const again = await create({ source: { url: 'https://origin.example/a.bin' } }, requestId, tokens.writer);
    assert.equal(again.json<{ id: string }>().id, mine.json<{ id: string }>().id, 'my retry still replays my answer');
  });

  it('accepts the brief example verbatim and answers 201 with id, status and requestId', async () => {
    const response = await inject({
      method: 'POST',
      url: '/api/torrent/create',
      headers: {
        Authorization: `Bearer ${tokens.admin}`,
        'X-Request-ID': 'model-rollout-2026-05-24-001',
        'Content-Type': 'application/json',
      },
      payload: `{
        "magnetURI": "${briefMagnet}",
        "autoStart": true
      }`,
    });
    assert.equal(response.statusCode, 201);
    const body = response.json<{ id: string; status: string; requestId: string }>();
    assert.match(body.id, /^[0-9a-f-]{36}$/);
    assert.equal(body.status, 'running');
    assert.equal(body.requestId, 'model-rollout-2026-05-24-001');
    assert.equal(response.headers['x-request-id'], 'model-rollout-2026-05-24-001');

    await projected();
    const transfer = await inject({ method: 'GET', url: `/api/transfers/${body.id}`, headers: bearer(tokens.reader) });
    assert.equal(transfer.statusCode, 200);
    const view = transfer.json<{ name: string; status: string; source: { kind: string; infoHash: string }; createdBy: string; jobs: unknown[] }>();
    assert.equal(view.name, 'llama3-70b-checkpoint.safetensors');
    assert.equal(view.status, 'running');
    assert.deepEqual([view.source.kind, view.source.infoHash], ['magnet', '0123456789abcdef0123456789abcdef01234567']);
    assert.equal(view.createdBy, 'admin');
    assert.deepEqual(view.jobs, []);
  });

  it('takes a source URL (https or s3) instead of a magnet, never both', async () => {
    const https = await create({ source: { url: 'https://models.example/llama/shard-00001.safetensors' } });
    assert.equal(https.statusCode, 201);
    assert.equal(https.json<{ status: string }>().status, 'requested');
    const s3 = await create({ source: { url: 's3://checkpoints/llama3/70b/' }, autoStart: true });
    assert.equal(s3.statusCode, 201);
    const before = await eventCount();
    const both = await create({ magnetURI: briefMagnet, source: { url: 'https://a.example/x' } });
    assert.equal(both.statusCode, 400);
    assert.equal(both.json<{ error: { code: string } }>().error.code, 'TE_ERR_VALIDATION');
    const neither = await create({ autoStart: true });
    assert.equal(neither.statusCode, 400);
    assert.equal(await eventCount(), before);
  });

  it('returns the original result for a retry with the same X-Request-ID and appends nothing', async () => {
    const requestId = `rollout-${randomUUID()}`;
    const first = await create({ magnetURI: briefMagnet, autoStart: true }, requestId);
    const events = await eventCount();
    const retry = await create({ magnetURI: briefMagnet, autoStart: true }, requestId);
    assert.equal(retry.statusCode, 201);
    assert.deepEqual(retry.json(), first.json());
    assert.equal(retry.headers['idempotent-replayed'], 'true');
    assert.equal(await eventCount(), events);

    const conflicting = await create({ magnetURI: briefMagnet, autoStart: false }, requestId);
    assert.equal(conflicting.statusCode, 409);
    assert.equal(conflicting.json<{ error: { code: string } }>().error.code, 'TE_ERR_IDEMPOTENCY_MISMATCH');
    assert.equal(await eventCount(), events);
  });

  const badBodies: Array<[string, unknown, string, RegExp]> = [
    ['an invalid magnet URI', { magnetURI: 'magnet:?xt=urn:btih:nothex' }, 'TE_ERR_INVALID_MAGNET', /info hash/],
    ['a non-magnet URI', { magnetURI: 'https://example.org/x.torrent' }, 'TE_ERR_INVALID_MAGNET', /magnet:\?/],
    ['an unknown field', { magnetURI: briefMagnet, autoStrat: true }, 'TE_ERR_VALIDATION', /unknown field "autoStrat"/],
    ['a wrong type', { magnetURI: briefMagnet, autoStart: 'yes' }, 'TE_ERR_VALIDATION', /autoStart must be boolean/],
    ['a wrong nested type', { source: { url: 42 } }, 'TE_ERR_VALIDATION', /source\.url must be string/],
    ['an ftp source', { source: { url: 'ftp://example.org/x' } }, 'TE_ERR_VALIDATION', /https/],
    ['a body that is not an object', [1, 2], 'TE_ERR_VALIDATION', /body must be object/],
  ];
  for (const [what, body, code, message] of badBodies) {
    it(`answers 400 ${code} to ${what}, and appends nothing`, async () => {
      const before = await eventCount();
      const response = await create(body);
      assert.equal(response.statusCode, 400);
      const error = response.json<{ error: { code: string; message: string; requestId: string } }>().error;
      assert.equal(error.code, code);
      assert.match(error.message, message);
      assert.equal(error.requestId, response.headers['x-request-id']);
      assert.equal(await eventCount(), before);
    });
  }

  it('answers 400 to malformed JSON and 413 to a body over the limit', async () => {
    const malformed = await inject({
      method: 'POST',
      url: '/api/torrent/create',
      headers: { ...bearer(tokens.writer), 'content-type': 'application/json' },
      payload: '{"magnetURI": ',
    });
    assert.equal(malformed.statusCode, 400);
    assert.equal(malformed.json<{ error: { code: string } }>().error.code, 'TE_ERR_VALIDATION');
    const before = await eventCount();
    const huge = await create({ magnetURI: briefMagnet, name: 'x'.repeat(200), destination: 'y'.repeat(70_000) });
    assert.equal(huge.statusCode, 413);
    assert.equal(huge.json<{ error: { code: string } }>().error.code, 'TE_ERR_BODY_TOO_LARGE');
    assert.equal(await eventCount(), before);
  });

  it('requires a valid bearer token (401) with the needed scope (403)', async () => {
    const anonymous = await inject({ method: 'GET', url: '/api/transfers' });
    assert.equal(anonymous.statusCode, 401);
    assert.equal(anonymous.headers['www-authenticate'], 'Bearer realm="torrentedge"');
    assert.equal(anonymous.json<{ error: { code: string } }>().error.code, 'TE_ERR_UNAUTHENTICATED');
    const wrong = await inject({ method: 'GET', url: '/api/transfers', headers: bearer('not-a-token-we-issued') });
    assert.equal(wrong.statusCode, 401);
    const notBearer = await inject({ method: 'GET', url: '/api/transfers', headers: { authorization: `Basic ${tokens.admin}` } });
    assert.equal(notBearer.statusCode, 401);

    const before = await eventCount();
    const readerWrites = await create({ magnetURI: briefMagnet }, randomUUID(), tokens.reader);
    assert.equal(readerWrites.statusCode, 403);
    assert.equal(readerWrites.json<{ error: { code: string } }>().error.code, 'TE_ERR_FORBIDDEN');
    assert.equal(await eventCount(), before);
    const writerReplays = await inject({ method: 'POST', url: '/api/projections/transfers/replay', headers: bearer(tokens.writer) });
    assert.equal(writerReplays.statusCode, 403);
    const writerReads = await inject({ method: 'GET', url: '/api/transfers', headers: bearer(tokens.writer) });
    assert.equal(writerReads.statusCode, 200, 'write includes read');
  });

  it('runs the lifecycle and refuses illegal transitions with 409, appending nothing', async () => {
    const { id } = (await create({ source: { url: 'https://a.example/image.qcow2' } })).json<{ id: string }>();
    const command = (action: string, payload?: object) =>
      inject({ method: 'POST', url: `/api/transfers/${id}/${action}`, headers: bearer(tokens.writer), ...(payload ? { payload } : {}) });
    assert.equal((await command('start')).json<{ status: string }>().status, 'running');
    assert.equal((await command('pause')).json<{ status: string }>().status, 'paused');
    assert.equal((await command('resume')).json<{ status: string }>().status, 'running');
    const cancelled = await command('cancel', { reason: 'superseded by a newer checkpoint' });
    assert.equal(cancelled.statusCode, 200);
    assert.equal(cancelled.json<{ status: string }>().status, 'cancelled');

    const before = await eventCount();
    const resume = await command('resume');
    assert.equal(resume.statusCode, 409);
    const error = resume.json<{ error: { code: string; message: string } }>().error;
    assert.equal(error.code, 'TE_ERR_ILLEGAL_TRANSITION');
    assert.match(error.message, /cannot resume transfer .* it is cancelled/);
    assert.equal((await command('start')).statusCode, 409);
    assert.equal(await eventCount(), before);

    await projected();
    const view = (await inject({ method: 'GET', url: `/api/transfers/${id}`, headers: bearer(tokens.reader) })).json<{ status: string; failureReason: string }>();
    assert.equal(view.status, 'cancelled');
    assert.equal(view.failureReason, 'superseded by a newer checkpoint');
  });

  it('answers 404 for an unknown transfer and 400 for an id that is not a UUID', async () => {
    const unknown = randomUUID();
    const get = await inject({ method: 'GET', url: `/api/transfers/${unknown}`, headers: bearer(tokens.reader) });
    assert.equal(get.statusCode, 404);
    assert.equal(get.json<{ error: { code: string } }>().error.code, 'TE_ERR_TRANSFER_NOT_FOUND');
    const start = await inject({ method: 'POST', url: `/api/transfers/${unknown}/start`, headers: bearer(tokens.writer) });
    assert.equal(start.statusCode, 404);
    const events = await inject({ method: 'GET', url: `/api/transfers/${unknown}/events`, headers: bearer(tokens.reader) });
    assert.equal(events.statusCode, 404);
    const bad = await inject({ method: 'GET', url: '/api/transfers/not-a-uuid', headers: bearer(tokens.reader) });
    assert.equal(bad.statusCode, 400);
    const noRoute = await inject({ method: 'GET', url: '/api/nothing-here' });
    assert.equal(noRoute.statusCode, 404);
    assert.equal(noRoute.json<{ error: { code: string } }>().error.code, 'TE_ERR_NOT_FOUND');
  });

  it('serves the event history in order with metadata: the audit view', async () => {
    const requestId = `audit-${randomUUID()}`;
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const created = await inject({
      method: 'POST',
      url: '/api/torrent/create',
      headers: { ...bearer(tokens.writer), 'x-request-id': requestId, traceparent },
      payload: { magnetURI: briefMagnet, autoStart: true },
    });
    const { id } = created.json<{ id: string }>();
    await inject({ method: 'POST', url: `/api/transfers/${id}/pause`, headers: { ...bearer(tokens.admin), 'x-request-id': `${requestId}-pause` } });
    const response = await inject({ method: 'GET', url: `/api/transfers/${id}/events`, headers: bearer(tokens.reader) });
    assert.equal(response.statusCode, 200);
    const { events } = response.json<{ events: Array<{ type: string; streamRevision: number; globalPosition: number; metadata: Record<string, unknown> }> }>();
    assert.deepEqual(events.map((e) => [e.type, e.streamRevision]), [['TransferRequested', 0], ['TransferStarted', 1], ['TransferPaused', 2]]);
    assert.ok(events[0]!.globalPosition < events[2]!.globalPosition);
    const meta = events[0]!.metadata;
    assert.equal(meta.requestId, requestId);
    assert.equal(meta.traceparent, traceparent);
    assert.equal(meta.actor, 'ci-pipeline');
    assert.equal(meta.schemaVersion, 1);
    assert.match(String(meta.eventId), /^[0-9a-f-]{36}$/);
    assert.ok(!Number.isNaN(Date.parse(String(meta.occurredAt))));
    assert.equal(events[2]!.metadata.actor, 'admin');
    assert.equal(events[2]!.metadata.requestId, `${requestId}-pause`);
  });

  it('pages the transfer list newest first with an opaque cursor, and filters by status', async () => {
    for (let i = 0; i < 5; i++) await create({ source: { url: `https://a.example/page-${i}` }, name: `page-${i}` });
    await projected();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? 'limit=2' : `limit=2&cursor=${cursor}`;
      const page = (await inject({ method: 'GET', url: `/api/transfers?${query}`, headers: bearer(tokens.reader) })).json<{
        items: Array<{ id: string; createdAt: string }>;
        nextCursor: string | null;
      }>();
      assert.ok(page.items.length <= 2);
      seen.push(...page.items.map((item) => item.createdAt));
      cursor = page.nextCursor;
    } while (cursor !== null);
    const total = Number((await t.plane.db.query<{ n: number }>('SELECT count(*)::int AS n FROM te_transfers')).rows[0]!.n);
    assert.equal(seen.length, total);
    assert.deepEqual(seen, [...seen].sort().reverse());

    const running = (await inject({ method: 'GET', url: '/api/transfers?status=running&limit=100', headers: bearer(tokens.reader) })).json<{
      items: Array<{ status: string }>;
    }>();
    assert.ok(running.items.length > 0);
    assert.ok(running.items.every((item) => item.status === 'running'));
    const badLimit = await inject({ method: 'GET', url: '/api/transfers?limit=1000', headers: bearer(tokens.reader) });
    assert.equal(badLimit.statusCode, 400);
    const badCursor = await inject({ method: 'GET', url: '/api/transfers?cursor=garbage', headers: bearer(tokens.reader) });
    assert.equal(badCursor.statusCode, 400);
  });

  it('generates an X-Request-ID when absent and refuses a malformed one', async () => {
    const health = await inject({ method: 'GET', url: '/api/health' });
    assert.equal(health.statusCode, 200);
    assert.match(String(health.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    const before = await eventCount();
    const bad = await inject({
      method: 'POST',
      url: '/api/torrent/create',
      headers: { ...bearer(tokens.writer), 'x-request-id': 'has spaces and ünïcode' },
      payload: { magnetURI: briefMagnet },
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json<{ error: { code: string } }>().error.code, 'TE_ERR_INVALID_REQUEST_ID');
    assert.equal(await eventCount(), before);
  });

  it('reports readiness per dependency, and Prometheus metrics with the torrentedge_ prefix', async () => {
    const ready = await inject({ method: 'GET', url: '/api/ready' });
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json(), { status: 'ready', checks: { database: { ok: true }, projector: { ok: true } } });
    const metrics = await inject({ method: 'GET', url: '/metrics' });
    assert.equal(metrics.statusCode, 200);
    for (const name of [
      'torrentedge_http_request_duration_seconds_bucket',
      'torrentedge_commands_total{command="RequestTransfer",outcome="appended"}',
      'torrentedge_commands_total{command="ResumeTransfer",outcome="rejected"}',
      'torrentedge_events_appended_total{type="TransferRequested"}',
      'torrentedge_projection_lag_seconds_bucket',
      'torrentedge_event_log_head_position',
      'torrentedge_process_cpu_seconds_total',
    ]) {
      assert.ok(metrics.body.includes(name), `metrics include ${name}`);
    }
  });

  it('serves an OpenAPI document generated from the route schemas', async () => {
    const response = await inject({ method: 'GET', url: '/api/openapi.json' });
    assert.equal(response.statusCode, 200);
    const doc = response.json<{ openapi: string; paths: Record<string, Record<string, { requestBody?: unknown }>> }>();
    assert.equal(doc.openapi, '3.1.0');
    for (const path of ['/api/torrent/create', '/api/transfers', '/api/transfers/{id}', '/api/transfers/{id}/events', '/api/transfers/{id}/cancel']) {
      assert.ok(doc.paths[path], `documents ${path}`);
    }
    assert.ok(doc.paths['/api/torrent/create']!.post!.requestBody, 'the create body schema is in the document');
  });

  it('rebuilds a read model on request (admin)', async () => {
    const replay = await inject({ method: 'POST', url: '/api/projections/transfers/replay', headers: bearer(tokens.admin) });
    assert.equal(replay.statusCode, 200);
    assert.ok(replay.json<{ events: number }>().events > 0);
    const unknown = await inject({ method: 'POST', url: '/api/projections/nope/replay', headers: bearer(tokens.admin) });
    assert.equal(unknown.statusCode, 400);
    assert.equal(unknown.json<{ error: { code: string } }>().error.code, 'TE_ERR_UNKNOWN_PROJECTION');
  });
});
