import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { runClosedLoop, type ClosedLoopOptions, type ClosedLoopResult } from '../lib/closedLoop.ts';

/**
 * The floor the control plane is compared with: one autocommit INSERT of an event-sized row per
 * operation, on a pool of the same size, at the same concurrency. A command cannot be cheaper
 * than one durable write, so commands/s over this is the share of the server's write capacity
 * the command path keeps.
 */
export async function runBaseline(
  url: string,
  poolSize: number,
  loop: ClosedLoopOptions,
  warmUpSeconds: number,
): Promise<ClosedLoopResult> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, application_name: 'te-bench-baseline' });
  pool.on('error', () => undefined); // an idle client dropped at teardown is not a result
  try {
    await pool.query(`CREATE TABLE bench_baseline (
      id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      stream_id   text NOT NULL,
      data        jsonb NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
    )`);
    const operation = async (client: number) => {
      // About the size of a ChunksVerified event's data.
      const data = { transferId: randomUUID(), nodeId: `node-${client}`, fencingToken: 1, source: 'origin', chunkIndexes: [0, 1, 2, 3, 4, 5, 6, 7] };
      await pool.query('INSERT INTO bench_baseline (stream_id, data) VALUES ($1, $2)', [`job-${client}`, JSON.stringify(data)]);
    };
    await runClosedLoop({ ...loop, seconds: warmUpSeconds }, { operation });
    return await runClosedLoop(loop, { operation });
  } finally {
    await pool.end();
  }
}
