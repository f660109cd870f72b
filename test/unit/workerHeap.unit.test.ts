import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { missingWorkerFlags, workerNodeFlags } from '../../src/workers/workerHeap.ts';
import { cliPath } from '../helpers/serverProcess.ts';
import { waitFor } from '../helpers/waitFor.ts';

const binPath = fileURLToPath(new URL('../../bin/torrentedge', import.meta.url));

/** Starts a worker whose api never answers, returns its log once `line` shows up in it, and stops it. */
async function workerLogUntil(command: string, args: string[], line: RegExp): Promise<string> {
  const dataDir = await mkdtemp(join(tmpdir(), 'te-heap-'));
  const child = spawn(command, [...args, 'worker', '--node-id', 'n1', '--data-dir', dataDir], {
    env: { PATH: process.env.PATH ?? '', TORRENTEDGE_API_URL: 'http://127.0.0.1:1', TORRENTEDGE_NODE_TOKEN: 'te_test', TORRENTEDGE_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  try {
    return await waitFor(`the worker to log ${line}`, () => (line.test(output) ? output : undefined), 20_000);
  } finally {
    child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  }
}

describe('the heap of a worker', () => {
  it('tells which worker flags node was started without, from its arguments and NODE_OPTIONS, the command line winning', () => {
    assert.deepEqual(missingWorkerFlags([], ''), workerNodeFlags);
    assert.deepEqual(missingWorkerFlags(workerNodeFlags, ''), []);
    assert.deepEqual(missingWorkerFlags(['--max-semi-space-size=4'], ''), ['--heap-growing-percent=100']);
    assert.deepEqual(missingWorkerFlags(['--heap_growing_percent=50'], '--inspect --max_semi_space_size=16'), [], 'values of their own, either spelling');
    assert.deepEqual(missingWorkerFlags(['--max-old-space-size=4096', '--heap-growing-percent=100'], ''), ['--max-semi-space-size=4']);
    assert.deepEqual(missingWorkerFlags(['--max-semi-space-size=4'], '--heap-growing-percent=100'), ['--heap-growing-percent=100'], 'node refuses it in NODE_OPTIONS');
    assert.deepEqual(missingWorkerFlags(['--max-semi-space-size=0', '--heap-growing-percent=100'], '--max-semi-space-size=4'), ['--max-semi-space-size=4'], "0 is V8's own sizing");
  });

  it("keeps V8's young generation at two semi-spaces under allocation churn when node gets the worker flags", async () => {
    const churn = "let keep=[];for(let r=0;r<100;r++){const a=[];for(let i=0;i<100000;i++)a.push({i});keep.push(a.slice(0,5000));if(keep.length>20)keep.shift()}" +
      "console.log(require('v8').getHeapSpaceStatistics().find((s)=>s.space_name==='new_space').space_size)";
    const { stdout } = await promisify(execFile)(process.execPath, [...workerNodeFlags, '-e', churn]);
    const semiSpaceMiB = Number(/^--max-semi-space-size=(\d+)$/.exec(workerNodeFlags.find((flag) => flag.startsWith('--max-semi-space-size='))!)![1]);
    assert.ok(Number(stdout) <= 2 * semiSpaceMiB * 2 ** 20, `new space of ${Number(stdout) / 2 ** 20} MiB`);
  });

  it('has every flag when the worker is started through bin/torrentedge', async () => {
    const log = await workerLogUntil('sh', [binPath], /worker starting/);
    assert.doesNotMatch(log, /without the worker's heap flags/, 'the flags bin/torrentedge passes are the ones the workers get elsewhere');
  });

  it('warns when node started the worker without the flags', async () => {
    const log = await workerLogUntil(process.execPath, [cliPath], /without the worker's heap flags/);
    assert.ok(workerNodeFlags.every((flag) => log.includes(flag)), 'the warning names the flags');
  });
});
