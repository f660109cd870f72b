import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { semiSpaceCapMiB, workerNodeFlags } from '../../src/workers/youngGeneration.ts';
import { cliPath } from '../helpers/serverProcess.ts';
import { waitFor } from '../helpers/waitFor.ts';

const binPath = fileURLToPath(new URL('../../bin/torrentedge', import.meta.url));

/** Starts a worker whose api never answers, returns its log once `line` shows up in it, and stops it. */
async function workerLogUntil(command: string, args: string[], line: RegExp): Promise<string> {
  const dataDir = await mkdtemp(join(tmpdir(), 'te-young-'));
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

describe('the young generation of a worker', () => {
  it('reads the semi-space cap from node arguments and NODE_OPTIONS, the command line winning', () => {
    assert.equal(semiSpaceCapMiB([], ''), undefined);
    assert.equal(semiSpaceCapMiB(['--max-semi-space-size=4'], ''), 4);
    assert.equal(semiSpaceCapMiB([], '--inspect --max_semi_space_size=16'), 16);
    assert.equal(semiSpaceCapMiB(['--max-semi-space-size=8'], '--max-semi-space-size=16'), 8);
    assert.equal(semiSpaceCapMiB(['--max-old-space-size=4096'], ''), undefined);
    assert.equal(semiSpaceCapMiB(['--max-semi-space-size=0'], '--max-semi-space-size=4'), undefined, "0 is V8's own sizing");
  });

  it("keeps V8's young generation at two semi-spaces under allocation churn when node gets the worker flags", async () => {
    const churn = "let keep=[];for(let r=0;r<100;r++){const a=[];for(let i=0;i<100000;i++)a.push({i});keep.push(a.slice(0,5000));if(keep.length>20)keep.shift()}" +
      "console.log(require('v8').getHeapSpaceStatistics().find((s)=>s.space_name==='new_space').space_size)";
    const { stdout } = await promisify(execFile)(process.execPath, [...workerNodeFlags, '-e', churn]);
    assert.ok(Number(stdout) <= 2 * semiSpaceCapMiB(workerNodeFlags, '')! * 2 ** 20, `new space of ${Number(stdout) / 2 ** 20} MiB`);
  });

  it('is capped when the worker is started through bin/torrentedge', async () => {
    const log = await workerLogUntil('sh', [binPath], /worker starting/);
    assert.match(log, new RegExp(`"semiSpaceMiB":${semiSpaceCapMiB(workerNodeFlags, '')}\\b`), 'the flag bin/torrentedge passes is the one the workers get elsewhere');
    assert.doesNotMatch(log, /without a cap on the young generation/);
  });

  it('warns when node started the worker without the flags', async () => {
    const log = await workerLogUntil(process.execPath, [cliPath], /without a cap on the young generation/);
    assert.ok(workerNodeFlags.every((flag) => log.includes(flag)), 'the warning names the flags');
  });
});
