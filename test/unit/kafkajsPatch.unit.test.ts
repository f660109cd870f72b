import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

// patches/kafkajs+2.2.4.patch: the Encoder takes unzeroed buffers and writes varints in place
// (the broker checks each batch's CRC, but only this shows the bytes are the ones the format
// defines), and the request queue no longer sets a negative timeout.
const require = createRequire(import.meta.url);
interface Encoder {
  writeVarInt(value: number): Encoder;
  writeUVarInt(value: number): Encoder;
  writeVarIntString(value: string): Encoder;
  readonly buffer: Buffer;
}
const Encoder = require('kafkajs/src/protocol/encoder.js') as new (initialSize?: number) => Encoder;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (batch: { records: unknown[]; lastOffsetDelta: number }) => Promise<Encoder>;
};
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (record: {
  offsetDelta: number;
  key: Buffer;
  value: Buffer;
  headers: Record<string, string>;
}) => unknown;
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (decoder: unknown) => Promise<{
  records: { key: Buffer; value: Buffer; offset: string; headers: Record<string, Buffer> }[];
}>;
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => unknown;
const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as new (options: Record<string, unknown>) => {
  scheduleCheckPendingRequests(): void;
  destroy(): void;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
};

/** Unsigned LEB128, as the Kafka protocol defines its varints. */
function leb128(value: number): number[] {
  const bytes: number[] = [];
  let rest = value >>> 0;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return bytes;
}
const zigZag = (value: number) => ((value << 1) ^ (value >> 31)) >>> 0;

const samples = [0, 1, -1, 63, 64, -64, -65, 127, 128, 255, 16_383, 16_384, 2 ** 21, 2 ** 28, 2 ** 31 - 1, -(2 ** 31), 123_456_789, -987_654_321];

describe('kafkajs Encoder, as patched', () => {
  it('writes the zig-zag LEB128 bytes of each varint, and nothing past them', () => {
    for (const value of samples) {
      const encoder = new Encoder().writeVarInt(value).writeUVarInt(value >>> 0);
      assert.deepEqual([...encoder.buffer], [...leb128(zigZag(value)), ...leb128(value >>> 0)], `varints of ${value}`);
    }
  });

  it('grows past its first buffer without carrying stale bytes into what it returns', () => {
    // 300 varints of 5 bytes: past the initial 512 bytes, taken unzeroed from the pool.
    const encoder = new Encoder();
    for (let i = 0; i < 300; i++) encoder.writeUVarInt(2 ** 31 + i);
    assert.equal(encoder.buffer.length, 1500);
    assert.deepEqual([...encoder.buffer.subarray(1495)], leb128(2 ** 31 + 299));
  });

  it('encodes a record batch with headers that kafkajs decodes back unchanged', async () => {
    const records = Array.from({ length: 50 }, (_, i) => ({
      offsetDelta: i,
      key: Buffer.from(`stream-${i}`),
      value: Buffer.alloc(700 + i, i),
      headers: { 'event-id': `event-${i}`, 'event-type': 'ChunksVerified', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    }));
    const encoded = await RecordBatch({ records: records.map(Record), lastOffsetDelta: records.length - 1 });
    const decoded = await decodeBatch(new Decoder(encoded.buffer));
    assert.equal(decoded.records.length, records.length);
    for (const [i, record] of decoded.records.entries()) {
      assert.deepEqual(record.key, records[i]!.key);
      assert.deepEqual(record.value, records[i]!.value);
      assert.deepEqual(Object.fromEntries(Object.entries(record.headers).map(([k, v]) => [k, v.toString()])), records[i]!.headers);
    }
  });
});

describe('kafkajs request queue, as patched', () => {
  it('schedules its pending-request check without a negative timeout when nothing is throttled', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const noop = () => {};
      const queue = new RequestQueue({ maxInFlightRequests: 1, requestTimeout: 1000, clientId: 'test', broker: 'none', logger: { debug: noop, info: noop, warn: noop, error: noop } });
      queue.scheduleCheckPendingRequests();
      assert.ok(queue.throttleCheckTimeoutId !== null);
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      clearTimeout(queue.throttleCheckTimeoutId);
      assert.deepEqual(warnings.filter((name) => name === 'TimeoutNegativeWarning'), []);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
