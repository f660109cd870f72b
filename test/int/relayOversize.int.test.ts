import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { buildSegmentTorrent } from '../../src/cas/index.ts';
import type { IncomingMessage } from '../../src/bus/messageBus.ts';
import { createTransferCommands } from '../../src/commands/transferCommands.ts';
import { createKafkaBus } from '../../src/infra/kafka/kafkaBus.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { maxEventMessageBytes } from '../../src/relay/relay.ts';
import { testContext } from '../helpers/commandContext.ts';
import { startTestControlPlane, type TestControlPlane } from '../helpers/testControlPlane.ts';
import { testKafkaBrokers } from '../helpers/testKafka.ts';
import { waitFor } from '../helpers/waitFor.ts';

describe('relay: an event larger than one Kafka message (PostgreSQL, Kafka)', () => {
  const bus = createKafkaBus({ logger: silentLogger() }, { brokers: testKafkaBrokers, clientId: `oversize-${randomUUID()}` });
  let t: TestControlPlane;
  before(async () => (t = await startTestControlPlane('postgres', { relay: true, bus })));
  after(async () => {
    await t.close();
    await bus.close();
  });

  it('publishes it as a reference with its size, and the events after it still flow', async () => {
    const received: IncomingMessage[] = [];
    const consumer = await bus.consume({ group: `oversize-${randomUUID()}`, topics: ['torrent.events'], fromBeginning: true }, async (message) => void received.push(message));
    try {
      const transfers = createTransferCommands(t.plane.commands);
      const { result } = await transfers.createTransfer({ source: { url: 'https://origin.example/huge.bin' }, autoStart: true }, testContext());
      // One segment of 20,000 pieces: 20,000 SHA-256s in hex and 20,000 SHA-1s, about 1.8 MB of event.
      const pieces = 20_000;
      const pieceLength = 16 * 1024;
      await transfers.publishManifest(result.id, { totalBytes: pieces * pieceLength, pieceLength, pieceCount: pieces, segmentPieces: pieces, files: [{ path: 'huge.bin', length: pieces * pieceLength }] }, testContext());
      const { info } = buildSegmentTorrent({ name: 'part-0', pieceLength, length: pieces * pieceLength, sha1: Array.from({ length: pieces }, (_, i) => createHash('sha1').update(String(i)).digest()) });
      const pieceSha256 = Array.from({ length: pieces }, (_, i) => createHash('sha256').update(String(i)).digest('hex'));
      await transfers.publishSegment(result.id, 0, { info: info.toString('base64'), pieceSha256 }, testContext());
      await transfers.changeLifecycle(result.id, 'pause', testContext());

      const ofTransfer = () => received.filter((message) => message.key === `transfer-${result.id}`);
      await waitFor('the pause after the big event', () => ofTransfer().some((message) => message.headers['event-type'] === 'TransferPaused'), 30_000);
      const reference = ofTransfer().find((message) => message.headers['event-type'] === 'ManifestSegmentPublished')!;
      assert.ok(Number(reference.headers['x-oversize']) > maxEventMessageBytes);
      const body = JSON.parse(reference.value) as { eventId: string; oversize: { bytes: number }; data?: unknown };
      assert.equal(body.eventId, reference.headers['event-id']);
      assert.equal(body.data, undefined, 'the reference carries no data');
      assert.deepEqual(ofTransfer().map((message) => message.headers['event-type']), ['TransferRequested', 'TransferStarted', 'ManifestPublished', 'ManifestSegmentPublished', 'TransferPaused']);
    } finally {
      await consumer.stop();
    }
  });
});
