import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { cliPath, startServerProcess, type ServerProcess } from '../helpers/serverProcess.ts';
import { waitFor } from '../helpers/waitFor.ts';
import { createHash } from 'node:crypto';
import { generateArtifact } from '../../src/demo/generateArtifact.ts';
import { startLocalOrigin } from '../../src/demo/localOrigin.ts';

const run = promisify(execFile);

describe('the main job: `torrentedge start` on embedded defaults', () => {
  let dataDir: string;
  let server: ServerProcess | undefined;
  before(async () => (dataDir = await mkdtemp(join(tmpdir(), 'te-start-'))));
  after(async () => {
    await server?.kill();
    await rm(dataDir, { recursive: true, force: true });
  });

  const cli = (url: string, ...args: string[]) =>
    run(process.execPath, [cliPath, ...args], { env: { PATH: process.env.PATH ?? '', TORRENTEDGE_DATA_DIR: dataDir, TORRENTEDGE_API_URL: url } });

  it('needs no service, generates an admin token, serves the CLI, and keeps its data across a restart', async () => {
    server = await startServerProcess('start', { TORRENTEDGE_DATA_DIR: dataDir });
    const tokenPath = join(dataDir, 'admin-token');
    assert.match(server.output(), new RegExp(`admin token: cat ${tokenPath} \\(generated now\\)`));
    assert.match(server.output(), /embedded PostgreSQL \(PGlite\)/);
    assert.equal((await stat(tokenPath)).mode & 0o777, 0o600);
    const token = (await readFile(tokenPath, 'utf8')).trim();

    const health = await fetch(`${server.url}/api/health`);
    assert.equal(health.status, 200);
    const denied = await fetch(`${server.url}/api/transfers`);
    assert.equal(denied.status, 401);

    const created = await cli(server.url, 'create', '--magnet', 'magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=model.safetensors', '--auto-start', '--request-id', 'e2e-1');
    const { id, status } = JSON.parse(created.stdout) as { id: string; status: string };
    assert.equal(status, 'running');
    const listed = await waitFor('the transfer in `status`', async () => {
      const { stdout } = await cli(server!.url, 'status');
      return stdout.includes(id) ? stdout : undefined;
    });
    assert.match(listed, /running .* model\.safetensors/);

    assert.equal(await server.stop(), 0, 'SIGTERM stops it cleanly');
    server = await startServerProcess('start', { TORRENTEDGE_DATA_DIR: dataDir });
    assert.match(server.output(), /admin token: cat .*admin-token\n/, 'the token is reused, not generated again');
    const again = await fetch(`${server.url}/api/transfers/${id}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as { status: string }).status, 'running');
  });

  it('runs a local worker: an artifact from an HTTP origin lands verified under the data directory', async () => {
    server ??= await startServerProcess('start', { TORRENTEDGE_DATA_DIR: dataDir });
    assert.match(server.output(), /worker: {2}node \S+, CAS in /);
    const artifact = join(dataDir, 'weights.bin');
    const sha256 = await generateArtifact(artifact, 3 * 1024 * 1024 + 17);
    const origin = await startLocalOrigin(artifact);
    try {
      const created = await cli(server.url, 'create', '--url', origin.url, '--auto-start', '--request-id', 'e2e-local-worker');
      const { id } = JSON.parse(created.stdout) as { id: string };
      await waitFor('the transfer to complete', async () => {
        const { stdout } = await cli(server!.url, 'status', id, '--json');
        return (JSON.parse(stdout) as { status: string }).status === 'completed';
      }, 60_000);
      const watched = await cli(server.url, 'watch', id);
      assert.match(watched.stdout, new RegExp(`transfer ${id} completed: bytes from origin ${3 * 1024 * 1024 + 17}`));
      const copy = createHash('sha256').update(await readFile(join(dataDir, 'artifacts', id, 'weights.bin'))).digest('hex');
      assert.equal(copy, sha256);
    } finally {
      await origin.close();
    }
  });
});
