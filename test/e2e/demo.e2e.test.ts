import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { cliPath } from '../helpers/serverProcess.ts';

const run = promisify(execFile);
const mib = 2 ** 20;

describe('`torrentedge demo` on embedded defaults', () => {
  it('distributes a generated artifact to N local workers and prints the summary as one JSON object', async () => {
    const { stdout } = await run(process.execPath, [cliPath, 'demo', '--nodes', '3', '--size', '12MiB', '--json'], {
      env: { PATH: process.env.PATH ?? '' },
      timeout: 120_000,
    });
    const summary = JSON.parse(stdout) as {
      nodes: number;
      artifactBytes: number;
      originBytes: number;
      peerBytes: number;
      seconds: number;
      nodeSeconds: number[];
      allIdentical: boolean;
    };
    assert.equal(summary.nodes, 3);
    assert.equal(summary.artifactBytes, 12 * mib);
    assert.ok(summary.originBytes >= summary.artifactBytes && summary.originBytes <= 1.05 * summary.artifactBytes, `origin served ${summary.originBytes} bytes`);
    // The two nodes without the seed job fetched the whole artifact from peers.
    assert.ok(summary.peerBytes >= 2 * summary.artifactBytes, `peers served ${summary.peerBytes} bytes`);
    assert.equal(summary.nodeSeconds.length, 3);
    assert.ok(summary.nodeSeconds.every((seconds) => seconds > 0 && seconds <= summary.seconds));
    assert.equal(summary.allIdentical, true);
  });

  it('refuses a node count it cannot run, before starting anything', async () => {
    const failed = await run(process.execPath, [cliPath, 'demo', '--nodes', '0', '--json'], { env: { PATH: process.env.PATH ?? '' } }).then(
      () => undefined,
      (error: { code?: number; stderr?: string }) => error,
    );
    assert.equal(failed?.code, 1);
    assert.match(failed?.stderr ?? '', /--nodes must be a whole number from 1 to 64/);
  });
});
