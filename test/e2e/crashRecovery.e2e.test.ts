import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cliPath, startServerProcess, type ServerProcess } from '../helpers/serverProcess.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.ts';
import { waitFor } from '../helpers/waitFor.ts';

const token = 'crash-test-admin-token-0123456789';
const run = promisify(execFile);

async function create(url: string, requestId: string): Promise<{ status: number; id?: string }> {
  const response = await fetch(`${url}/api/torrent/create`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'x-request-id': requestId, 'content-type': 'application/json' },
    body: JSON.stringify({ source: { url: `https://origin.example/${requestId}.bin` }, autoStart: true }),
  });
  const body = (await response.json()) as { id?: string };
  return { status: response.status, ...(body.id ? { id: body.id } : {}) };
}

describe('kill -9 of the control plane mid-load (PostgreSQL)', () => {
  let database: TestDatabase;
  let dataDir: string;
  let server: ServerProcess | undefined;
  before(async () => {
    database = await createTestDatabase({ migrate: false }); // the server migrates at start-up
    dataDir = await mkdtemp(join(tmpdir(), 'te-crash-'));
  });
  after(async () => {
    await server?.kill();
    await database.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('loses no acknowledged command, and retries with the same X-Request-ID give one transfer each', async () => {
    const env = { DATABASE_URL: database.url, TORRENTEDGE_TOKEN: token, TORRENTEDGE_DATA_DIR: dataDir, TORRENTEDGE_LOG_LEVEL: 'info' };
    server = await startServerProcess('serve', env);
    const acknowledged = new Map<string, string>();
    const attempted: string[] = [];
    let next = 0;
    let killed = false;
    const client = async () => {
      while (!killed) {
        const requestId = `crash-${next++}`;
        attempted.push(requestId);
        try {
          const result = await create(server!.url, requestId);
          if (result.status === 201 && result.id) acknowledged.set(requestId, result.id);
        } catch {
          return; // the server is gone
        }
      }
    };
    const clients = Array.from({ length: 8 }, client);
    await waitFor('some load', () => acknowledged.size >= 150, 30_000);
    killed = true;
    await server.kill();
    await Promise.all(clients);

    server = await startServerProcess('serve', env);
    // Every request is retried: committed ones answer with their original transfer, the others create theirs now.
    for (const requestId of attempted) {
      const retry = await create(server.url, requestId);
      assert.equal(retry.status, 201, requestId);
      const earlier = acknowledged.get(requestId);
      if (earlier !== undefined) assert.equal(retry.id, earlier, `${requestId} kept its transfer`);
    }
    const { rows } = await database.db.query<{ n: number; requests: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT metadata->>'requestId')::int AS requests FROM te_events WHERE event_type = 'TransferRequested'`,
    );
    assert.deepEqual(rows[0], { n: attempted.length, requests: attempted.length });

    await waitFor('the restarted projector to catch up', async () => {
      const { rows: [count] } = await database.db.query<{ n: number }>('SELECT count(*)::int AS n FROM te_transfers');
      return count!.n === attempted.length;
    }, 30_000);
    const live = (await database.db.query('SELECT * FROM te_transfers ORDER BY transfer_id')).rows;
    await server.stop();
    server = undefined;
    const replay = await run(process.execPath, [cliPath, 'replay', '--projection', 'all'], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: database.url, TORRENTEDGE_DATA_DIR: dataDir, TORRENTEDGE_LOG_LEVEL: 'warn' },
    });
    assert.match(replay.stdout, new RegExp(`transfers: rebuilt from ${2 * attempted.length} events`));
    assert.deepEqual((await database.db.query('SELECT * FROM te_transfers ORDER BY transfer_id')).rows, live, 'no event applied twice or skipped');
  });
});
