import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseMagnetUri } from '../../src/commands/magnetUri.ts';
import { resolveSource } from '../../src/commands/transferCommands.ts';
import { TorrentEdgeError, type ErrorCode } from '../../src/errors.ts';

const hex = '0123456789abcdef0123456789abcdef01234567';
/** The same 20 bytes in RFC 4648 base32. */
const base32 = 'AERUKZ4JVPG66AJDIVTYTK6N54ASGRLH';

function assertTorrentEdgeError(fn: () => unknown, code: ErrorCode, message?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof TorrentEdgeError, `expected a TorrentEdgeError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  });
}

describe('parseMagnetUri', () => {
  it("parses the brief's example: info hash and display name", () => {
    assert.deepEqual(parseMagnetUri(`magnet:?xt=urn:btih:${hex}&dn=llama3-70b-checkpoint.safetensors`), {
      infoHash: hex,
      displayName: 'llama3-70b-checkpoint.safetensors',
    });
  });

  it('has a null display name without dn, or with an empty one', () => {
    assert.deepEqual(parseMagnetUri(`magnet:?xt=urn:btih:${hex}`), { infoHash: hex, displayName: null });
    assert.deepEqual(parseMagnetUri(`magnet:?xt=urn:btih:${hex}&dn=`), { infoHash: hex, displayName: null });
  });

  it('decodes a percent-encoded display name', () => {
    assert.equal(parseMagnetUri(`magnet:?xt=urn:btih:${hex}&dn=model%20v2.bin`).displayName, 'model v2.bin');
  });

  it('lower-cases an upper-case hex info hash', () => {
    assert.equal(parseMagnetUri(`magnet:?xt=urn:btih:${hex.toUpperCase()}`).infoHash, hex);
  });

  it('turns a 32-character base32 info hash into hex, in either case', () => {
    assert.equal(parseMagnetUri(`magnet:?xt=urn:btih:${base32}`).infoHash, hex);
    assert.equal(parseMagnetUri(`magnet:?xt=urn:btih:${base32.toLowerCase()}`).infoHash, hex);
  });

  it('ignores other parameters and a v2 (btmh) topic beside the btih one', () => {
    const uri = `magnet:?xt=urn:btih:${hex}&tr=udp%3A%2F%2Ftracker.example%3A1337&xt=urn:btmh:1220${'a'.repeat(64)}&dn=x`;
    assert.deepEqual(parseMagnetUri(uri), { infoHash: hex, displayName: 'x' });
  });

  const invalid: Array<[string, string, RegExp]> = [
    ['not a magnet: URI', `https://example.com/?xt=urn:btih:${hex}`, /must start with "magnet:\?"/],
    ['a magnet without "?"', `magnet:xt=urn:btih:${hex}`, /must start with "magnet:\?"/],
    ['stream-magnet:', `stream-magnet:?xt=urn:btih:${hex}`, /must start with "magnet:\?"/],
    ['no xt', 'magnet:?dn=llama3-70b-checkpoint.safetensors', /exactly one xt=urn:btih/],
    ['only a v2 (btmh) topic', `magnet:?xt=urn:btmh:1220${'a'.repeat(64)}`, /exactly one xt=urn:btih/],
    ['two btih topics', `magnet:?xt=urn:btih:${hex}&xt=urn:btih:${'f'.repeat(40)}`, /exactly one xt=urn:btih/],
    ['two identical btih topics', `magnet:?xt=urn:btih:${hex}&xt=urn:btih:${hex}`, /exactly one xt=urn:btih/],
    ['a short hash (31 characters)', `magnet:?xt=urn:btih:${hex.slice(0, 31)}`, /is not a 40-character hex or 32-character base32 info hash/],
    ['an empty hash', 'magnet:?xt=urn:btih:', /info hash/],
    ['a non-hex 40-character hash', `magnet:?xt=urn:btih:${'g'.repeat(40)}`, /"g{40}" is not a 40-character hex/],
    ['an empty string', '', /must start with "magnet:\?"/],
  ];
  for (const [label, uri, message] of invalid) {
    it(`rejects ${label} with TE_ERR_INVALID_MAGNET`, () => {
      assertTorrentEdgeError(() => parseMagnetUri(uri), 'TE_ERR_INVALID_MAGNET', message);
    });
  }

  it('the error maps to HTTP 400, not retriable', () => {
    try {
      parseMagnetUri('magnet:?dn=x');
      assert.fail('it parsed');
    } catch (error) {
      assert.ok(error instanceof TorrentEdgeError);
      assert.equal(error.status, 400);
      assert.equal(error.retriable, false);
    }
  });

  // magnet-uri matches /^urn:btih:(.{40})/ and then /^urn:btih:(.{32})/, unanchored at the end,
  // so the exact length has to be checked before it decodes.

  it(
    'rejects a short hash of 32..39 characters',
    () => {
      for (const length of [33, 36, 39]) {
        assertTorrentEdgeError(() => parseMagnetUri(`magnet:?xt=urn:btih:${hex.slice(0, length)}`), 'TE_ERR_INVALID_MAGNET');
      }
    },
  );

  it(
    'rejects a long hash of 41+ characters',
    () => {
      assertTorrentEdgeError(() => parseMagnetUri(`magnet:?xt=urn:btih:${hex}ff`), 'TE_ERR_INVALID_MAGNET');
    },
  );

  it(
    'rejects a 32-character btih that is not base32',
    () => {
      assertTorrentEdgeError(() => parseMagnetUri(`magnet:?xt=urn:btih:${hex.slice(0, 32)}`), 'TE_ERR_INVALID_MAGNET');
    },
  );

  it(
    'rejects malformed percent-encoding with TE_ERR_INVALID_MAGNET',
    () => {
      assertTorrentEdgeError(() => parseMagnetUri(`magnet:?xt=urn:btih:${hex}&dn=%E0%A4%A`), 'TE_ERR_INVALID_MAGNET');
      assertTorrentEdgeError(() => parseMagnetUri(`magnet:?xt=urn:btih:${hex}&tr=%`), 'TE_ERR_INVALID_MAGNET');
    },
  );

  it(
    'keeps a percent-encoded "+" in the display name',
    () => {
      assert.equal(parseMagnetUri(`magnet:?xt=urn:btih:${hex}&dn=c%2B%2B.bin`).displayName, 'c++.bin');
    },
  );
});

describe('resolveSource', () => {
  const magnetURI = `magnet:?xt=urn:btih:${hex}&dn=llama3-70b-checkpoint.safetensors`;

  it('needs exactly one of magnetURI and source', () => {
    assertTorrentEdgeError(() => resolveSource({}), 'TE_ERR_VALIDATION', /exactly one of "magnetURI" and "source"/);
    assertTorrentEdgeError(
      () => resolveSource({ magnetURI, source: { url: 'https://example.com/a.bin' } }),
      'TE_ERR_VALIDATION',
      /exactly one of "magnetURI" and "source"/,
    );
  });

  it('a magnetURI becomes a magnet source with its info hash', () => {
    assert.deepEqual(resolveSource({ magnetURI }), { kind: 'magnet', magnetURI, infoHash: hex });
  });

  it('an invalid magnetURI is TE_ERR_INVALID_MAGNET', () => {
    assertTorrentEdgeError(() => resolveSource({ magnetURI: 'magnet:?dn=x' }), 'TE_ERR_INVALID_MAGNET');
    assertTorrentEdgeError(() => resolveSource({ magnetURI: '' }), 'TE_ERR_INVALID_MAGNET');
  });

  it('an https URL becomes a url source, normalized', () => {
    assert.deepEqual(resolveSource({ source: { url: 'https://models.example.com/llama3/model.safetensors' } }), {
      kind: 'url',
      url: 'https://models.example.com/llama3/model.safetensors',
    });
    assert.deepEqual(resolveSource({ source: { url: 'HTTPS://Models.Example.com/a b' } }), {
      kind: 'url',
      url: 'https://models.example.com/a%20b',
    });
  });

  it('an http URL becomes a url source', () => {
    assert.deepEqual(resolveSource({ source: { url: 'http://10.0.0.5:8080/x.bin' } }), { kind: 'url', url: 'http://10.0.0.5:8080/x.bin' });
  });

  it('s3://bucket/key becomes an s3 source; the key keeps its slashes', () => {
    assert.deepEqual(resolveSource({ source: { url: 's3://my-models.prod/llama3/70b/model.safetensors' } }), {
      kind: 's3',
      bucket: 'my-models.prod',
      key: 'llama3/70b/model.safetensors',
    });
  });

  const refused: Array<[string, string, RegExp]> = [
    ['ftp://', 'ftp://files.example.com/x.bin', /not ftp:/],
    ['file:// without a seed node', 'file:///etc/passwd', /needs "seedNode"/],
    ['s3:// without a key', 's3://my-bucket/', /not s3:/],
    ['s3:// with an upper-case bucket', 's3://My-Bucket/key', /not s3:/],
    ['s3:// with a two-character bucket', 's3://ab/key', /not s3:/],
    ['not a URL', 'models/x.bin', /"models\/x\.bin" is not a URL/],
    ['an empty url', '', /is not a URL/],
  ];
  for (const [label, url, message] of refused) {
    it(`refuses ${label} with TE_ERR_VALIDATION`, () => {
      assertTorrentEdgeError(() => resolveSource({ source: { url } }), 'TE_ERR_VALIDATION', message);
    });
  }

  it('a file:// source with its seed node is a push from that node', () => {
    assert.deepEqual(resolveSource({ source: { url: 'file:///data/models/llama%203' }, seedNode: 'gpu-1' }), { kind: 'push', nodeId: 'gpu-1', path: '/data/models/llama 3' });
  });

  it('a seed node is refused for other sources, and a file:// URL must be local', () => {
    assertTorrentEdgeError(() => resolveSource({ source: { url: 'https://origin.example/x' }, seedNode: 'gpu-1' }), 'TE_ERR_VALIDATION', /only for file:\/\//);
    assertTorrentEdgeError(() => resolveSource({ source: { url: 'file://fileserver/share/x' }, seedNode: 'gpu-1' }), 'TE_ERR_VALIDATION', /local absolute paths/);
  });

  it('dot segments in a file:// URL are resolved before the path is recorded', () => {
    // What the worker may read is then decided by its push roots, on the resolved path.
    assert.deepEqual(resolveSource({ source: { url: 'file:///data/%2E%2E/etc/x' }, seedNode: 'gpu-1' }), { kind: 'push', nodeId: 'gpu-1', path: '/etc/x' });
  });
});
