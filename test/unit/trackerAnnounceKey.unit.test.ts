import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { announceUrl, createAnnounceKeys } from '../../src/tracker/announceKey.ts';

const secret = Buffer.alloc(32, 7);
const transferId = '0f1e2d3c-4b5a-4968-8776-655443322110';

describe('announce keys', () => {
  const keys = createAnnounceKeys(secret);

  it('round-trips a fleet node and an external client, and is URL-safe', () => {
    const node = keys.issue({ transferId, nodeId: 'gpu-node-017' });
    assert.match(node, /^[A-Za-z0-9_-]+$/);
    assert.ok(node.length < 100, `a typical key is short (${node.length})`);
    assert.deepEqual(keys.verify(node), { transferId, nodeId: 'gpu-node-017' });
    const external = keys.issue({ transferId, nodeId: null });
    assert.deepEqual(keys.verify(external), { transferId, nodeId: null });
    assert.notEqual(node, external);
  });

  it('keeps a node literally named "external" apart from an external client', () => {
    assert.deepEqual(keys.verify(keys.issue({ transferId, nodeId: 'external' })), { transferId, nodeId: 'external' });
  });

  it('rejects every single-character change of a key', () => {
    const key = keys.issue({ transferId, nodeId: 'gpu-node-017' });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = 0; i < key.length; i++) {
      for (const replacement of [alphabet[(alphabet.indexOf(key[i]!) + 1) % 64]!, '.', '=']) {
        const tampered = key.slice(0, i) + replacement + key.slice(i + 1);
        assert.equal(keys.verify(tampered), undefined, `position ${i} → ${replacement}`);
      }
    }
    assert.equal(keys.verify(key.slice(0, -1)), undefined, 'truncated');
    assert.equal(keys.verify(`${key}A`), undefined, 'extended');
  });

  it('rejects a key for another node spliced with this tag, one from another secret, and garbage', () => {
    const a = Buffer.from(keys.issue({ transferId, nodeId: 'node-a' }), 'base64url');
    const b = Buffer.from(keys.issue({ transferId, nodeId: 'node-b' }), 'base64url');
    const spliced = Buffer.concat([b.subarray(0, b.length - 16), a.subarray(a.length - 16)]).toString('base64url');
    assert.equal(keys.verify(spliced), undefined);
    const other = createAnnounceKeys(randomBytes(32));
    assert.equal(keys.verify(other.issue({ transferId, nodeId: 'node-a' })), undefined);
    for (const garbage of ['', 'announce', 'a'.repeat(300), '%00%01']) assert.equal(keys.verify(garbage), undefined);
  });

  it('refuses a short secret, a transfer id that is not a UUID and an empty node id', () => {
    assert.throws(() => createAnnounceKeys(Buffer.alloc(16)), /at least 32 bytes/);
    assert.throws(() => keys.issue({ transferId: 'transfer-1', nodeId: null }), /not a UUID/);
    assert.throws(() => keys.issue({ transferId, nodeId: '' }), /pass null/);
  });

  it('builds the announce URL from the api base URL', () => {
    assert.equal(announceUrl('http://10.0.0.1:8080/', 'KEY'), 'http://10.0.0.1:8080/tracker/KEY/announce');
  });
});
