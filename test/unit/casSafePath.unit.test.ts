import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnsafePathError } from '../../src/cas/casErrors.ts';
import { resolveInside, sanitizeRelativePath } from '../../src/cas/safePath.ts';

describe('sanitizeRelativePath', () => {
  const accepted = ['model.safetensors', 'model/shard-00001.safetensors', 'a/b/c/d.bin', '..hidden', 'x..y/z', '.config/a', 'ünïcödé/файл.bin', 'with space/a b'];
  for (const path of accepted) {
    it(`accepts ${JSON.stringify(path)} unchanged`, () => {
      assert.equal(sanitizeRelativePath(path), path);
    });
  }

  const nasty: Array<[string, unknown, RegExp]> = [
    ['an empty path', '', /empty/],
    ['an absolute path', '/etc/passwd', /absolute/],
    ['a parent segment', '../outside', /"\.\." segment/],
    ['a parent segment in the middle', 'model/../../outside', /"\.\." segment/],
    ['a trailing parent segment', 'model/..', /"\.\." segment/],
    ['a bare "..', '..', /"\.\." segment/],
    ['a "." segment', './model.bin', /"\." segment/],
    ['a "." in the middle', 'model/./x', /"\." segment/],
    ['a bare "."', '.', /"\." segment/],
    ['an empty segment', 'model//x', /empty segment/],
    ['a trailing slash', 'model/', /empty segment/],
    ['a NUL', 'model.bin\0.txt', /control character/],
    ['a newline', 'model\n.bin', /control character/],
    ['a DEL', 'model\u007f.bin', /control character/],
    ['a backslash', 'model\\x.bin', /backslash/],
    ['a Windows traversal', '..\\..\\windows', /backslash/],
    ['a drive letter', 'C:/Windows/system32', /drive letter/],
    ['a drive-relative path', 'c:model.bin', /drive letter/],
    ['a segment over 255 bytes', 'a'.repeat(256), /longer than 255 bytes/],
    ['a segment over 255 bytes in UTF-8', 'é'.repeat(128), /longer than 255 bytes/],
    ['a path over 4096 bytes', Array.from({ length: 20 }, () => 'a'.repeat(250)).join('/'), /longer than 4096 bytes/],
    ['a number', 42, /not a string/],
  ];
  for (const [label, path, message] of nasty) {
    it(`rejects ${label}`, () => {
      assert.throws(() => sanitizeRelativePath(path), (error: unknown) => {
        assert.ok(error instanceof UnsafePathError, String(error));
        assert.match(error.message, message);
        return true;
      });
    });
  }
});

describe('resolveInside', () => {
  let base: string;
  let root: string;
  let outside: string;
  before(async () => {
    base = await realpath(await mkdtemp(join(tmpdir(), 'cas-safe-')));
    root = join(base, 'root');
    outside = join(base, 'outside');
    await mkdir(root);
    await mkdir(outside);
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('returns root/relative without creating anything by default', async () => {
    assert.equal(await resolveInside(root, 'a/b/c.bin'), join(root, 'a/b/c.bin'));
    assert.deepEqual(await readdir(root), []);
  });

  it('creates parent directories inside root when asked', async () => {
    assert.equal(await resolveInside(root, 'made/here/c.bin', { createParents: true }), join(root, 'made/here/c.bin'));
    assert.deepEqual(await readdir(join(root, 'made')), ['here']);
  });

  it('refuses a symlinked directory on the way, even one pointing inside', async () => {
    await symlink(outside, join(root, 'escape'));
    await symlink(join(root, 'made'), join(root, 'alias'));
    for (const path of ['escape/x.bin', 'escape/deeper/x.bin', 'alias/x.bin']) {
      await assert.rejects(resolveInside(root, path, { createParents: true }), /is a symlink/);
    }
    assert.deepEqual(await readdir(outside), [], 'nothing was created outside');
  });

  it('refuses a regular file used as a directory', async () => {
    await writeFile(join(root, 'file'), 'x');
    await assert.rejects(resolveInside(root, 'file/x.bin'), /is not a directory/);
  });

  it('sanitizes first: traversal never reaches the filesystem', async () => {
    await assert.rejects(resolveInside(root, '../outside/x.bin', { createParents: true }), UnsafePathError);
    await assert.rejects(resolveInside(root, '/etc/passwd'), UnsafePathError);
  });

  it('resolves a symlinked root through its real path', async () => {
    await symlink(root, join(base, 'root-link'));
    assert.equal(await resolveInside(join(base, 'root-link'), 'a.bin'), join(root, 'a.bin'));
  });
});
