import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearer, startTestControlPlane, tokens, type TestControlPlane } from '../helpers/testControlPlane.ts';

describe('the api over a real socket, on PostgreSQL', () => {
  let t: TestControlPlane;
  let url: string;
  before(async () => {
    t = await startTestControlPlane('postgres');
    url = await t.plane.listen();
  });
  after(() => t.close());

  it('turns 50 concurrent identical creates into exactly one transfer and one TransferRequested event', async () => {
    const requestId = 'model-rollout-2026-05-24-001';
    const body = JSON.stringify({
      magnetURI: 'magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=llama3-70b-checkpoint.safetensors',
      autoStart: true,
    });
    const responses = await Promise.all(
      Array.from({ length: 50 }, () =>
        fetch(`${url}/api/torrent/create`, {
          method: 'POST',
          headers: { ...bearer(tokens.writer), 'x-request-id': requestId, 'content-type': 'application/json' },
          body,
        }),
      ),
    );
    const bodies = await Promise.all(responses.map((response) => response.json() as Promise<{ id: string; status: string; requestId: string }>));
    assert.deepEqual(new Set(responses.map((response) => response.status)), new Set([201]));
    assert.deepEqual(new Set(responses.map((response) => response.headers.get('x-request-id'))), new Set([requestId]));
    const ids = new Set(bodies.map((b) => b.id));
    assert.equal(ids.size, 1, 'every caller got the same transfer');
    assert.deepEqual(bodies[0], { id: [...ids][0], status: 'running', requestId });
    assert.equal(responses.filter((response) => response.headers.get('idempotent-replayed') === 'true').length, 49);

    const { rows } = await t.plane.db.query<{ type: string; n: number }>(
      'SELECT event_type AS type, count(*)::int AS n FROM te_events GROUP BY event_type ORDER BY event_type',
    );
    assert.deepEqual(rows, [
      { type: 'TransferRequested', n: 1 },
      { type: 'TransferStarted', n: 1 },
    ]);
    await t.plane.projector!.waitForPosition(await t.plane.eventLog.headPosition());
    const transfers = await t.plane.db.query<{ n: number }>('SELECT count(*)::int AS n FROM te_transfers');
    assert.equal(transfers.rows[0]!.n, 1);
  });

  it('serves health, readiness and metrics without a token', async () => {
    for (const path of ['/api/health', '/api/ready', '/metrics']) {
      const response = await fetch(`${url}${path}`);
      assert.equal(response.status, 200, path);
      assert.ok(response.headers.get('x-request-id'));
    }
  });
});
