import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  TokenStore,
  adminTokenEntry,
  generatedTokenFile,
  hasScope,
  mayActForNode,
  nodeSubject,
  loadOrCreateAdminToken,
  loadTokenStore,
  parseTokensFile,
  type Scope,
} from '../../src/api/auth/tokens.ts';

const sha256Hex = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex');

const readerToken = 'reader-token-0123456789';
const writerToken = 'writer-token-0123456789';
const opsToken = 'ops-token-abcdefghijklmn';

const tokensFile = JSON.stringify([
  { subject: 'dashboard', scopes: ['read'], token: readerToken },
  { subject: 'ci', scopes: ['write'], sha256: sha256Hex(writerToken) },
  { subject: 'ops', scopes: ['read', 'admin'], token: opsToken },
]);

describe('hasScope', () => {
  const principal = (...scopes: Scope[]) => ({ subject: 's', scopes });
  const table: Array<[Scope, Record<Scope, boolean>]> = [
    ['read', { read: true, write: false, admin: false, node: false }],
    ['write', { read: true, write: true, admin: false, node: false }],
    ['admin', { read: true, write: true, admin: true, node: true }],
    ['node', { read: true, write: false, admin: false, node: true }],
  ];
  for (const [held, expected] of table) {
    for (const needed of ['read', 'write', 'admin', 'node'] as const) {
      it(`${held} ${expected[needed] ? 'includes' : 'does not include'} ${needed}`, () => {
        assert.equal(hasScope(principal(held), needed), expected[needed]);
      });
    }
  }

  it('any scope held is enough, whatever the order', () => {
    assert.equal(hasScope(principal('admin', 'read'), 'write'), true);
    assert.equal(hasScope(principal('read', 'write'), 'admin'), false);
  });

  it('a node token acts for its own node only; admin for any', () => {
    const node = { subject: nodeSubject('gpu-1'), scopes: ['node'] as Scope[] };
    assert.equal(mayActForNode(node, 'gpu-1'), true);
    assert.equal(mayActForNode(node, 'gpu-2'), false);
    assert.equal(mayActForNode({ subject: nodeSubject('gpu-1'), scopes: ['read'] }, 'gpu-1'), false);
    assert.equal(mayActForNode({ subject: 'ci', scopes: ['write'] }, 'gpu-1'), false);
    assert.equal(mayActForNode({ subject: 'ops', scopes: ['admin'] }, 'gpu-2'), true);
  });

  it('no scopes include nothing', () => {
    assert.equal(hasScope(principal(), 'read'), false);
  });
});

describe('TokenStore', () => {
  it('authenticates the one entry whose token matches', () => {
    const store = new TokenStore([adminTokenEntry('the-admin-token-value')]);
    assert.equal(store.size, 1);
    assert.deepEqual(store.authenticate('the-admin-token-value'), { subject: 'admin', scopes: ['admin'] });
  });

  it('returns undefined when nothing matches', () => {
    const store = new TokenStore([adminTokenEntry('the-admin-token-value')]);
    assert.equal(store.authenticate('the-admin-token-valuE'), undefined);
    assert.equal(store.authenticate(''), undefined);
    assert.equal(new TokenStore([]).authenticate('anything'), undefined);
  });

  it('finds the right one of several entries, token and sha256 alike', () => {
    const store = new TokenStore([adminTokenEntry('the-admin-token-value'), ...parseTokensFile(tokensFile, 'tokens.json')]);
    assert.equal(store.size, 4);
    assert.deepEqual(store.authenticate(readerToken), { subject: 'dashboard', scopes: ['read'] });
    assert.deepEqual(store.authenticate(writerToken), { subject: 'ci', scopes: ['write'] });
    assert.deepEqual(store.authenticate(opsToken), { subject: 'ops', scopes: ['read', 'admin'] });
    assert.deepEqual(store.authenticate('the-admin-token-value'), { subject: 'admin', scopes: ['admin'] });
    assert.equal(store.authenticate(sha256Hex(writerToken)), undefined, 'the digest itself is not a token');
  });

  it('with the same token twice, the first entry wins', () => {
    const store = new TokenStore(
      parseTokensFile(
        JSON.stringify([
          { subject: 'first', scopes: ['read'], token: readerToken },
          { subject: 'second', scopes: ['admin'], token: readerToken },
        ]),
        'dup.json',
      ),
    );
    assert.deepEqual(store.authenticate(readerToken), { subject: 'first', scopes: ['read'] });
  });
});

describe('parseTokensFile', () => {
  it('parses token and sha256 entries into digests', () => {
    const entries = parseTokensFile(tokensFile, 'tokens.json');
    assert.deepEqual(
      entries.map(({ subject, scopes, digest }) => ({ subject, scopes, digest: digest.toString('hex') })),
      [
        { subject: 'dashboard', scopes: ['read'], digest: sha256Hex(readerToken) },
        { subject: 'ci', scopes: ['write'], digest: sha256Hex(writerToken) },
        { subject: 'ops', scopes: ['read', 'admin'], digest: sha256Hex(opsToken) },
      ],
    );
  });

  it('accepts an empty list', () => {
    assert.deepEqual(parseTokensFile('[]', 'tokens.json'), []);
  });

  const invalid: Array<[string, string, RegExp]> = [
    ['invalid JSON', '[{"subject": "x",', /^tokens\.json is not JSON: /],
    ['not an array', JSON.stringify({ subject: 'x', scopes: ['read'], token: readerToken }), /^tokens\.json/],
    ['an unknown scope', JSON.stringify([{ subject: 'x', scopes: ['superuser'], token: readerToken }]), /^tokens\.json: \/0\/scopes\/0/],
    ['no scopes', JSON.stringify([{ subject: 'x', scopes: [], token: readerToken }]), /^tokens\.json: \/0\/scopes/],
    ['an empty subject', JSON.stringify([{ subject: '', scopes: ['read'], token: readerToken }]), /^tokens\.json: \/0\/subject/],
    ['a token shorter than 16 characters', JSON.stringify([{ subject: 'x', scopes: ['read'], token: 'short' }]), /^tokens\.json: \/0\/token/],
    ['a sha256 that is not 64 hex digits', JSON.stringify([{ subject: 'x', scopes: ['read'], sha256: 'ABC' }]), /^tokens\.json: \/0\/sha256/],
    ['an unknown property', JSON.stringify([{ subject: 'x', scopes: ['read'], token: readerToken, note: 'hi' }]), /^tokens\.json/],
    [
      'both token and sha256',
      JSON.stringify([
        { subject: 'ok', scopes: ['read'], token: readerToken },
        { subject: 'x', scopes: ['read'], token: writerToken, sha256: sha256Hex(writerToken) },
      ]),
      /^tokens\.json: entry 1 needs exactly one of "token" and "sha256"$/,
    ],
    ['neither token nor sha256', JSON.stringify([{ subject: 'x', scopes: ['read'] }]), /^tokens\.json: entry 0 needs exactly one of "token" and "sha256"$/],
  ];
  for (const [label, text, message] of invalid) {
    it(`rejects ${label}, naming the file`, () => {
      assert.throws(() => parseTokensFile(text, 'tokens.json'), { name: 'Error', message });
    });
  }
});

describe('loadOrCreateAdminToken', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'te-tokens-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('creates the token once, mode 0600, under a data dir it creates; then returns the same one', async () => {
    const dataDir = join(root, 'first', 'nested');
    const first = await loadOrCreateAdminToken(dataDir);
    assert.equal(first.created, true);
    assert.equal(first.path, generatedTokenFile(dataDir));
    assert.equal(first.path, join(dataDir, 'admin-token'));
    assert.match(first.token, /^te_[A-Za-z0-9_-]{32}$/);
    assert.equal((await stat(first.path)).mode & 0o777, 0o600);
    assert.equal(await readFile(first.path, 'utf8'), `${first.token}\n`);

    const second = await loadOrCreateAdminToken(dataDir);
    assert.deepEqual(second, { token: first.token, path: first.path, created: false });
  });

  it('each data dir gets a token of its own', async () => {
    const a = await loadOrCreateAdminToken(join(root, 'a'));
    const b = await loadOrCreateAdminToken(join(root, 'b'));
    assert.notEqual(a.token, b.token);
  });

  it('reads a token written by an operator, trimmed', async () => {
    const dataDir = await mkdtemp(join(root, 'given-'));
    await writeFile(generatedTokenFile(dataDir), '  te_operator-chosen-token \n');
    assert.deepEqual(await loadOrCreateAdminToken(dataDir), {
      token: 'te_operator-chosen-token',
      path: generatedTokenFile(dataDir),
      created: false,
    });
  });

  it(
    'does not hand out an empty token from an empty admin-token file',
    async () => {
      const dataDir = await mkdtemp(join(root, 'empty-'));
      await writeFile(generatedTokenFile(dataDir), '');
      const result = await loadOrCreateAdminToken(dataDir).catch((error: unknown) => error);
      if (result instanceof Error) return; // refusing to start is fine too
      assert.notEqual((result as { token: string }).token, '');
    },
  );
});

describe('loadTokenStore', () => {
  it('combines the admin token and a tokens file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'te-tokens-file-'));
    try {
      const path = join(dir, 'tokens.json');
      await writeFile(path, tokensFile);
      const store = await loadTokenStore({ adminToken: 'the-admin-token-value', tokensFile: path });
      assert.equal(store.size, 4);
      assert.deepEqual(store.authenticate('the-admin-token-value'), { subject: 'admin', scopes: ['admin'] });
      assert.deepEqual(store.authenticate(writerToken), { subject: 'ci', scopes: ['write'] });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is empty with neither', async () => {
    assert.equal((await loadTokenStore({})).size, 0);
  });
});
