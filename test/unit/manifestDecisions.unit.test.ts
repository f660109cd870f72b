import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import bencode from 'bencode';
import { transferDecider, type TransferCommand } from '../../src/commands/transferDecider.ts';
import { summarizeSegmentInfo } from '../../src/commands/segmentInfo.ts';
import { artifactPathProblem } from '../../src/commands/artifactPath.ts';
import type { TransferEvent } from '../../src/events/transferEvents.ts';
import { upcast } from '../../src/events/catalogue.ts';
import { TorrentEdgeError } from '../../src/errors.ts';
import { given } from '../helpers/given.ts';

const transferId = 't-1';
const kib = 1024;
/** 10 pieces of 16 KiB (the last one 1 KiB short), 4 pieces per segment: segments of 4, 4 and 2 pieces. */
const layout = {
  totalBytes: 10 * 16 * kib - kib,
  pieceLength: 16 * kib,
  pieceCount: 10,
  segmentPieces: 4,
  files: [
    { path: 'model/config.json', length: 3 * kib },
    { path: 'model/shard-00001.safetensors', length: 10 * 16 * kib - 4 * kib },
  ],
};
const digest = (n: number): string => createHash('sha256').update(String(n)).digest('hex');
const requested: TransferEvent = {
  type: 'TransferRequested',
  data: { transferId, name: 'model', source: { kind: 'url', url: 'https://origin.example/model' }, targets: { kind: 'all' }, destination: null },
};
const published: TransferEvent = { type: 'ManifestPublished', data: { transferId, ...layout } };

function segmentCommand(segmentIndex: number, overrides: Partial<{ pieces: number; length: number; private: boolean; pieceLength: number }> = {}): TransferCommand {
  const pieces = overrides.pieces ?? (segmentIndex === 2 ? 2 : 4);
  const length = overrides.length ?? (segmentIndex === 2 ? 2 * 16 * kib - kib : 4 * 16 * kib);
  return {
    type: 'PublishManifestSegment',
    data: {
      transferId,
      segmentIndex,
      infoHash: createHash('sha1').update(`segment-${segmentIndex}`).digest('hex'),
      info: 'aW5mbw==',
      pieceSha256: Array.from({ length: pieces }, (_, i) => digest(segmentIndex * 4 + i)),
      torrent: { length, pieceLength: overrides.pieceLength ?? 16 * kib, pieceCount: pieces, private: overrides.private ?? true },
    },
  };
}
const segmentEvent = (command: TransferCommand): TransferEvent => {
  const { torrent: _torrent, ...data } = (command as Extract<TransferCommand, { type: 'PublishManifestSegment' }>).data;
  return { type: 'ManifestSegmentPublished', data: { ...data, pieceSha256: [...data.pieceSha256] } };
};
const files = layout.files.map((file, i) => ({ ...file, sha256: digest(100 + i) }));
const complete: TransferCommand = { type: 'CompleteManifest', data: { transferId, files } };

describe('manifest decisions', () => {
  it('a multi-file layout is recorded; segments and digests start empty', () => {
    const state = given(transferDecider, [requested]).when({ type: 'PublishManifest', data: { transferId, ...layout } }).then([published]);
    assert.ok(state.status !== 'none');
    assert.deepEqual(state.manifest?.segments, []);
    assert.equal(state.manifest?.fileDigests, null);
  });

  for (const [label, files, message] of [
    ['files that do not add up', [{ path: 'a', length: 1 }], /add up to 1 bytes/],
    ['a traversal path', [{ path: '../etc/passwd', length: layout.totalBytes }], /".." segment/],
    ['an absolute path', [{ path: '/etc/passwd', length: layout.totalBytes }], /absolute/],
    ['a backslash', [{ path: 'a\\b', length: layout.totalBytes }], /backslash/],
    ['a NUL', [{ path: 'a\u0000b', length: layout.totalBytes }], /control character/],
    ['a duplicate path', [{ path: 'a', length: 1 }, { path: 'a', length: layout.totalBytes - 1 }], /listed twice/],
    ['no file', [], /at least one file/],
  ] as const) {
    it(`a layout with ${label} is TE_ERR_VALIDATION`, () => {
      given(transferDecider, [requested])
        .when({ type: 'PublishManifest', data: { transferId, ...layout, files: [...files] } })
        .thenRejects('TE_ERR_VALIDATION', message);
    });
  }

  it('segments are published in any order, each once; an identical republish decides nothing', () => {
    const second = segmentCommand(1);
    const state = given(transferDecider, [requested, published]).when(second).then([segmentEvent(second)]);
    assert.ok(state.status !== 'none');
    assert.equal(state.manifest?.segments[0], undefined);
    assert.deepEqual(state.manifest?.segments[1]?.pieceSha256, (segmentEvent(second).data as { pieceSha256: string[] }).pieceSha256);
    given(transferDecider, [requested, published, segmentEvent(second)]).when(second).then([]);
  });

  it('a segment republished with other hashes is TE_ERR_MANIFEST_CONFLICT', () => {
    const first = segmentCommand(0);
    const original = first as Extract<TransferCommand, { type: 'PublishManifestSegment' }>;
    const other: TransferCommand = { ...original, data: { ...original.data, pieceSha256: [digest(999), ...original.data.pieceSha256.slice(1)] } };
    given(transferDecider, [requested, published, segmentEvent(first)]).when(other).thenRejects('TE_ERR_MANIFEST_CONFLICT');
  });

  for (const [label, command, code, message] of [
    ['before the layout', segmentCommand(0), 'TE_ERR_ILLEGAL_TRANSITION', /no manifest yet/],
    ['out of range', segmentCommand(3), 'TE_ERR_CHUNK_OUT_OF_RANGE', /outside 0..2/],
    ['with too few digests', segmentCommand(0, { pieces: 3 }), 'TE_ERR_VALIDATION', /has 4 pieces, not 3/],
    ['with a torrent of other length', segmentCommand(2, { length: 100 }), 'TE_ERR_VALIDATION', /covers 100 bytes/],
    ['with a public torrent', segmentCommand(0, { private: false }), 'TE_ERR_VALIDATION', /must be private/],
    ['with other piece lengths', segmentCommand(0, { pieceLength: 32 * kib }), 'TE_ERR_VALIDATION', /32768-byte pieces/],
  ] as const) {
    it(`a segment ${label} is ${code}`, () => {
      const history = label === 'before the layout' ? [requested] : [requested, published];
      given(transferDecider, history).when(command).thenRejects(code, message);
    });
  }

  it('completes only when every segment is published, and then records the file digests', () => {
    const segments = [0, 1, 2].map((i) => segmentEvent(segmentCommand(i)));
    given(transferDecider, [requested, published, segments[0]!, segments[2]!]).when(complete).thenRejects('TE_ERR_ILLEGAL_TRANSITION', /segments 1 /);
    const state = given(transferDecider, [requested, published, ...segments]).when(complete).then([{ type: 'ManifestCompleted', data: { transferId, files } }]);
    assert.ok(state.status !== 'none');
    assert.deepEqual(state.manifest?.fileDigests, files.map((file) => file.sha256));
  });

  it('a completion with other files or digests is TE_ERR_MANIFEST_CONFLICT', () => {
    const segments = [0, 1, 2].map((i) => segmentEvent(segmentCommand(i)));
    const renamed: TransferCommand = { type: 'CompleteManifest', data: { transferId, files: [{ ...files[0]!, path: 'x' }, files[1]!] } };
    given(transferDecider, [requested, published, ...segments]).when(renamed).thenRejects('TE_ERR_MANIFEST_CONFLICT');
    const done: TransferEvent = { type: 'ManifestCompleted', data: { transferId, files } };
    const redigested: TransferCommand = { type: 'CompleteManifest', data: { transferId, files: [{ ...files[0]!, sha256: digest(7) }, files[1]!] } };
    given(transferDecider, [requested, published, ...segments, done]).when(redigested).thenRejects('TE_ERR_MANIFEST_CONFLICT');
    given(transferDecider, [requested, published, ...segments, done]).when(complete).then([]);
  });

  it('a v1 ManifestPublished is upcast to one file in one segment', () => {
    assert.deepEqual(upcast('ManifestPublished', 1, { transferId, totalBytes: 10, pieceLength: 4, pieceCount: 3 }), {
      transferId,
      totalBytes: 10,
      pieceLength: 4,
      pieceCount: 3,
      segmentPieces: 3,
      files: [{ path: 'artifact', length: 10 }],
    });
  });
});

describe('summarizeSegmentInfo', () => {
  const info = { length: 40_000, name: Buffer.from('part-00000'), 'piece length': 16_384, pieces: Buffer.alloc(60), private: 1 };
  const encoded = Buffer.from(bencode.encode(info));

  it('computes the info hash over the bytes given and reads the layout', () => {
    assert.deepEqual(summarizeSegmentInfo(encoded.toString('base64')), {
      infoHash: createHash('sha1').update(encoded).digest('hex'),
      length: 40_000,
      pieceLength: 16_384,
      pieceCount: 3,
      private: true,
    });
  });

  for (const [label, value] of [
    ['not base64', '***'],
    ['not bencoded', Buffer.from('hello').toString('base64')],
    ['a list', Buffer.from(bencode.encode([1, 2])).toString('base64')],
    ['multi-file', Buffer.from(bencode.encode({ ...info, files: [] })).toString('base64')],
    ['pieces not a multiple of 20', Buffer.from(bencode.encode({ ...info, pieces: Buffer.alloc(21) })).toString('base64')],
  ] as const) {
    it(`rejects info that is ${label} with TE_ERR_VALIDATION`, () => {
      assert.throws(() => summarizeSegmentInfo(value), (error: unknown) => error instanceof TorrentEdgeError && error.code === 'TE_ERR_VALIDATION');
    });
  }
});

describe('artifactPathProblem', () => {
  it('accepts nested relative paths and names with dots', () => {
    for (const path of ['a', 'model/shard-00001.safetensors', '.hidden/..x/y..', 'ünïcode/名前.bin']) assert.equal(artifactPathProblem(path), undefined, path);
  });
  it('rejects every way out of the destination', () => {
    for (const path of ['', '/abs', '../up', 'a/../../b', 'a/./b', 'a//b', 'a/', 'C:/x', 'c:x', 'a\\..\\b', 'a\u0000', 'a\nb', 'x'.repeat(256)]) {
      assert.notEqual(artifactPathProblem(path), undefined, JSON.stringify(path));
    }
  });
});
