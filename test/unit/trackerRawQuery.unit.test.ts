import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAnnounce } from '../../src/tracker/announceRequest.ts';
import { parseRawQuery, percentDecodeBytes } from '../../src/tracker/rawQuery.ts';

// A binary info hash with bytes that are not valid UTF-8 (0xff, 0x80, 0xc3 alone) and ones that
// clients leave unescaped ('-', '.', '_', letters).
const infoHash = Buffer.from('ff80c300412d2e5f7e2b2520fe0102037a5a3039', 'hex');
const escapeAll = (bytes: Buffer) => [...bytes].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');
/** The way bittorrent-tracker's client writes it: escape() keeps A-Z a-z 0-9 - . _ as they are. */
const escapeLikeClients = (bytes: Buffer) =>
  [...bytes].map((byte) => (/[A-Za-z0-9_.-]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`)).join('');

describe('percent-decoding the raw query', () => {
  it('decodes a binary info_hash byte for byte, escaped fully or the way clients do', () => {
    assert.deepEqual(percentDecodeBytes(escapeAll(infoHash)), infoHash);
    assert.deepEqual(percentDecodeBytes(escapeLikeClients(infoHash)), infoHash);
    // What a UTF-8 querystring parser makes of it: not 20 bytes any more.
    const corrupted = Buffer.from(new URLSearchParams(`h=${escapeAll(infoHash)}`).get('h')!, 'utf8');
    assert.notDeepEqual(corrupted, infoHash);
  });

  it("reads '+' as a space, %2B as '+', and refuses malformed escapes and non-ASCII", () => {
    assert.deepEqual(percentDecodeBytes('a+b%2Bc'), Buffer.from('a b+c'));
    for (const bad of ['%', '%f', '%zz', 'abc%4', 'é']) assert.equal(percentDecodeBytes(bad), undefined, bad);
  });

  it('splits the query of a request target into names and byte values', () => {
    const query = parseRawQuery(`/tracker/k/announce?info_hash=${escapeAll(infoHash)}&port=6881&flag&a=1&a=2&&`)!;
    assert.deepEqual(query.get('info_hash'), [infoHash]);
    assert.deepEqual(query.get('port'), [Buffer.from('6881')]);
    assert.deepEqual(query.get('flag'), [Buffer.alloc(0)]);
    assert.equal(query.get('a')?.length, 2);
    assert.equal(parseRawQuery('/tracker/k/announce')!.size, 0);
    assert.equal(parseRawQuery('/x?info_hash=%zz'), undefined);
  });
});

describe('reading an announce', () => {
  const peerId = Buffer.from('-TE0100-abcdefghijkl');
  const query = (extra: string) => parseRawQuery(`/a?info_hash=${escapeAll(infoHash)}&peer_id=${escapeLikeClients(peerId)}&port=6881&left=0${extra}`)!;

  it('takes the BEP 3 parameters, compact by default, and ignores ip', () => {
    const parsed = parseAnnounce(query('&uploaded=5&downloaded=7&event=started&ip=203.0.113.9&numwant=1000'));
    assert.ok('request' in parsed);
    assert.deepEqual(parsed.request, {
      infoHash: infoHash.toString('hex'),
      peerId: peerId.toString('hex'),
      port: 6881,
      uploaded: 5,
      downloaded: 7,
      left: 0,
      event: 'started',
      compact: true,
      noPeerId: false,
      numwant: 200,
    });
    const plain = parseAnnounce(query('&compact=0&no_peer_id=1'));
    assert.ok('request' in plain);
    assert.deepEqual([plain.request.compact, plain.request.noPeerId, plain.request.event, plain.request.numwant], [false, true, 'empty', 50]);
  });

  it('refuses a short info_hash, a bad port, a missing left and an unknown event', () => {
    const cases: Array<[string, RegExp]> = [
      ['/a?info_hash=abc&peer_id=-TE0100-abcdefghijkl&port=1&left=0', /info_hash must be 20 bytes/],
      [`/a?info_hash=${escapeAll(infoHash)}&peer_id=short&port=1&left=0`, /peer_id/],
      [`/a?info_hash=${escapeAll(infoHash)}&peer_id=-TE0100-abcdefghijkl&port=70000&left=0`, /port/],
      [`/a?info_hash=${escapeAll(infoHash)}&peer_id=-TE0100-abcdefghijkl&port=1`, /left/],
      [`/a?info_hash=${escapeAll(infoHash)}&peer_id=-TE0100-abcdefghijkl&port=1&left=-1`, /left/],
      [`/a?info_hash=${escapeAll(infoHash)}&peer_id=-TE0100-abcdefghijkl&port=1&left=0&event=paused`, /event must be one of/],
      [`/a?info_hash=${escapeAll(infoHash)}&info_hash=${escapeAll(infoHash)}&peer_id=-TE0100-abcdefghijkl&port=1&left=0`, /info_hash/],
    ];
    for (const [url, reason] of cases) {
      const parsed = parseAnnounce(parseRawQuery(url)!);
      assert.ok('failure' in parsed, url);
      assert.match(parsed.failure, reason);
    }
  });
});
