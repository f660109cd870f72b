import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { cliPath } from '../helpers/serverProcess.ts';

const execFileAsync = promisify(execFile);

/**
 * Runs `torrentedge ...args` with a module hook that records every module it loads. The command
 * is expected to fail fast (nothing listens at the api url); what it loaded is the point.
 */
async function modulesLoadedBy(args: string[]): Promise<{ modules: string[]; stdout: string; code: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'te-cli-modules-'));
  try {
    const log = join(dir, 'loaded.txt');
    const hooks = join(dir, 'hooks.mjs');
    await writeFile(hooks, `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, resolved.url + '\\n');
  return resolved;
}\n`);
    const register = `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(hooks).href)});`;
    const run = execFileAsync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, cliPath, ...args], {
      env: { PATH: process.env.PATH ?? '', TORRENTEDGE_API_URL: 'http://127.0.0.1:1', TORRENTEDGE_LOG_LEVEL: 'silent' },
      timeout: 30_000,
    });
    const { stdout, code } = await run.then(
      ({ stdout: out }) => ({ stdout: out, code: 0 }),
      (error: { stdout?: string; code?: number }) => ({ stdout: error.stdout ?? '', code: error.code ?? 1 }),
    );
    const modules = (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean);
    return { modules, stdout, code };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const loads = (modules: string[], pkg: string) => modules.some((url) => url.includes(`/node_modules/${pkg}/`));

describe('torrentedge CLI: each command loads its own modules', () => {
  it('a client command such as status loads neither the api nor the data plane', async () => {
    const { modules, code } = await modulesLoadedBy(['status']);
    assert.equal(code, 1, 'no api answers: status fails');
    assert.ok(modules.some((url) => url.endsWith('/src/cli/commands/status.ts')), 'the hook saw the command load');
    for (const pkg of ['fastify', 'graphql', 'graphql-yoga', 'webtorrent', 'kafkajs', '@aws-sdk/client-s3', '@electric-sql/pglite']) {
      assert.ok(!loads(modules, pkg), `status loaded ${pkg}`);
    }
  });

  it('--help after a command prints the usage and exits 0', async () => {
    const { stdout, code } = await modulesLoadedBy(['worker', '--help']);
    assert.equal(code, 0);
    assert.match(stdout, /^torrentedge <command> \[options\]/);
  });
});
