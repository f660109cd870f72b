import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogCheckpoint, StoredEvent } from '../../src/events/eventLog.ts';
import { boundedEventMessage, eventMessage, messageBytes } from '../../src/relay/relayMessages.ts';

const data = { bytes: 67108864, nodeId: 'node-1', note: 'say "hi"\n ✓', chunkIndexes: [1, 2, 3], nested: { empty: {}, none: null } };
const stored = (overrides: Partial<StoredEvent> = {}): StoredEvent => ({
  streamId: 'job-"quoted"-ä',
  streamRevision: 3,
  globalPosition: 42,
  checkpoint: '7:42' as LogCheckpoint,
  eventId: '5f0c9f7e-8a0b-4c36-9d1e-2f3c4b5a6d7e',
  type: 'ChunksVerified',
  schemaVersion: 1,
  // As PostgreSQL renders jsonb: a space after each colon and comma, its own key order.
  dataJson: '{"note": "say \\"hi\\"\\n ✓", "bytes": 67108864, "nested": {"none": null, "empty": {}}, "nodeId": "node-1", "chunkIndexes": [1, 2, 3]}',
  metadata: { eventId: '5f0c9f7e-8a0b-4c36-9d1e-2f3c4b5a6d7e', requestId: 'req-1', actor: 'test', occurredAt: '2026-12-03T10:00:00.000Z', schemaVersion: 1, traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
  recordedAtIso: '2026-12-03T10:00:00.123Z',
  ...overrides,
});

describe('eventMessage', () => {
  it('is the recorded event as JSON around the stored data text, keyed by stream, with the event headers', () => {
    const event = stored();
    const message = eventMessage(event);
    assert.equal(message.key, event.streamId);
    const value = JSON.parse(message.value) as Record<string, unknown>;
    assert.deepEqual(value, {
      eventId: event.eventId,
      type: event.type,
      streamId: event.streamId,
      streamRevision: 3,
      globalPosition: 42,
      schemaVersion: 1,
      data,
      metadata: event.metadata,
      recordedAt: event.recordedAtIso,
    });
    assert.deepEqual(Object.keys(value), ['eventId', 'type', 'streamId', 'streamRevision', 'globalPosition', 'schemaVersion', 'data', 'metadata', 'recordedAt']);
    assert.deepEqual(message.headers, {
      'event-id': event.eventId,
      'event-type': 'ChunksVerified',
      'schema-version': '1',
      'x-request-id': 'req-1',
      traceparent: event.metadata.traceparent,
    });
  });

  it('is a reference when too large, and reports the size of what is sent', () => {
    const event = stored({ dataJson: JSON.stringify({ blob: 'x'.repeat(2000) }) });
    const whole = boundedEventMessage(event, 10_000);
    assert.equal(whole.bytes, messageBytes(whole.message));
    assert.equal(whole.message.headers['x-oversize'], undefined);
    const reference = boundedEventMessage(event, 1000);
    assert.equal(reference.message.headers['x-oversize'], String(messageBytes(eventMessage(event))));
    assert.equal(reference.bytes, messageBytes(reference.message));
    assert.equal((JSON.parse(reference.message.value) as { recordedAt: string }).recordedAt, event.recordedAtIso);
  });
});
