import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/observability/logger.ts';
import { projections } from '../../src/projections/index.ts';
import { createProjector } from '../../src/projections/projector.ts';
import { createTransferQueries } from '../../src/projections/queries/transferQueries.ts';
import { replayProjection } from '../../src/projections/replayProjection.ts';
import type { SqlExecutor } from '../../src/infra/postgres/sqlDatabase.ts';
import { runMixedWorkload } from '../helpers/mixedWorkload.ts';
import { startTestControlPlane, type TestControlPlane } from '../helpers/testControlPlane.ts';

const ordering: Record<string, string> = {
  te_transfers: 'transfer_id',
  te_jobs: 'transfer_id, node_id',
  te_chunks: 'transfer_id, node_id, chunk_index',
  te_nodes: 'node_id',
};

async function snapshot(sql: SqlExecutor, table: string): Promise<unknown[]> {
  const { rows } = await sql.query(`SELECT * FROM ${table} ORDER BY ${ordering[table]}`);
  return rows;
}

describe('projections on PostgreSQL', () => {
  let t: TestControlPlane;
  before(async () => (t = await startTestControlPlane('postgres')));
  after(() => t.close());

  it('rebuilds every read model from the log to exactly the rows the live projector wrote', async () => {
    const { staleRejections } = await runMixedWorkload(t.plane.commands, { transfers: 8, nodes: 4 });
    assert.equal(staleRejections, 8 * 2, 'each takeover fenced off the old token');
    await t.plane.projector!.waitForPosition(await t.plane.eventLog.headPosition());

    for (const projection of projections) {
      for (const table of projection.tables) {
        const live = await snapshot(t.plane.db, table);
        assert.ok(live.length > 0, `${table} has rows`);
        await replayProjection({ db: t.plane.db, eventLog: t.plane.eventLog }, projection);
        assert.deepEqual(await snapshot(t.plane.db, table), live, `${table} rebuilt equal`);
      }
    }
  });

  it('projects what the commands said: statuses, node counts, bytes by source, highest tokens', async () => {
    await t.plane.projector!.waitForPosition(await t.plane.eventLog.headPosition());
    const { rows: transfers } = await t.plane.db.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM te_transfers GROUP BY status ORDER BY status',
    );
    assert.deepEqual(transfers, [
      { status: 'cancelled', n: 2 },
      { status: 'completed', n: 2 },
      { status: 'failed', n: 2 },
      { status: 'running', n: 2 },
    ]);
    const { rows: [first] } = await t.plane.db.query<Record<string, number> & { total_bytes: number; bytes_origin: number; bytes_peer: number; bytes_cas: number }>(
      `SELECT nodes_total, nodes_completed, nodes_failed, progress, bytes_verified, total_bytes,
              bytes_origin, bytes_peer, bytes_cas
         FROM te_transfers ORDER BY created_at LIMIT 1`,
    );
    // Transfer 0: 4 nodes, the last failed; every node verified every chunk once.
    assert.equal(first!.nodes_total, 4);
    assert.equal(first!.nodes_completed, 3);
    assert.equal(first!.nodes_failed, 1);
    assert.equal(first!.progress, 1);
    assert.equal(first!.bytes_verified, 4 * first!.total_bytes);
    assert.equal(first!.bytes_origin + first!.bytes_peer + first!.bytes_cas, first!.bytes_verified);
    const { rows: tokens } = await t.plane.db.query<{ node_id: string; highest_fencing_token: number }>(
      `SELECT DISTINCT node_id, highest_fencing_token FROM te_jobs ORDER BY node_id`,
    );
    assert.deepEqual(tokens.map((row) => [row.node_id, row.highest_fencing_token]), [['node-0', 1], ['node-1', 2], ['node-2', 1], ['node-3', 2]]);
    const { rows: chunkSources } = await t.plane.db.query<{ fencing_token: number; n: number }>(
      `SELECT fencing_token, count(*)::int AS n FROM te_chunks WHERE node_id = 'node-1' AND chunk_index = 3 GROUP BY fencing_token`,
    );
    assert.deepEqual(chunkSources, [{ fencing_token: 2, n: 8 }], 'chunk 3 of node-1 was stored under the new lease only');
  });
  it('projects a transfer and its jobs under one checkpoint: its view never waits on another projection', async () => {
    await t.plane.projector!.waitForPosition(await t.plane.eventLog.headPosition());
    const owner = projections.find((projection) => projection.tables.includes('te_transfers'))!;
    const { rows: live } = await t.plane.db.query<{ n: number }>('SELECT count(*)::int AS n FROM te_jobs');

    // Only the projection that writes te_transfers catches up from the log start, one event per
    // batch; the view of each transfer it commits must already hold that transfer's jobs.
    await t.plane.projector!.stop();
    await t.plane.db.query('TRUNCATE te_transfers, te_jobs');
    await t.plane.db.query('UPDATE te_projection_checkpoints SET checkpoint = $1 WHERE projection = $2', [t.plane.eventLog.start, owner.name]);
    const queries = createTransferQueries(t.plane.db);
    const ended = new Set(['completed', 'failed', 'abandoned']);
    const findings: string[] = [];
    const checks: Promise<void>[] = [];
    const check = async (transferId: string): Promise<void> => {
      const view = await queries.getTransfer(transferId);
      if (view === undefined || view.nodes.total === 0) return;
      if (view.jobs.length === 0) return void findings.push(`transfer ${transferId} (${view.status}) shows no jobs`);
      const behind = view.jobs.filter((job) => !ended.has(job.state));
      if (view.status === 'completed' && behind.length > 0) findings.push(`transfer ${transferId} completed beside jobs ${behind.map((job) => job.state).join(', ')}`);
    };
    const projector = createProjector(
      {
        db: t.plane.db,
        eventLog: t.plane.eventLog,
        logger: silentLogger(),
        onCommit: (_projection, events) => {
          for (const event of events) {
            const { transferId } = event.data as { transferId?: string };
            if (transferId !== undefined) checks.push(check(transferId));
          }
        },
      },
      { projections: [owner], batchSize: 1 },
    );
    await projector.start();
    try {
      await projector.waitForPosition(await t.plane.eventLog.headPosition(), 60_000);
      await Promise.all(checks);
    } finally {
      await projector.stop();
    }
    assert.ok(checks.length > 0);
    assert.deepEqual(findings, []);
    const { rows: rebuilt } = await t.plane.db.query<{ n: number }>('SELECT count(*)::int AS n FROM te_jobs');
    assert.deepEqual(rebuilt, live, 'every job is back');
  });
});
