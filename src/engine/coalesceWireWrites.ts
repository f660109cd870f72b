import type { Wire } from 'webtorrent';

/** Up to this many bytes of messages go out as one buffer; more is flushed at once. */
const maxBatchBytes = 64 * 1024;

/**
 * Sends the messages a wire writes in one turn of the event loop as one buffer. bittorrent-protocol
 * pushes every message (a 17-byte request; a piece as a 13-byte header and a 16 KiB block) on its
 * own through the peer's stream pipeline (two throttles, two byte counters) to its own socket
 * write: 65,536 requests and 131,072 piece writes per GiB. All messages pass through `_push`, so
 * batching there keeps their order. Upstream, this would be a cork in bittorrent-protocol.
 */
export function coalesceWireWrites(wire: Wire): void {
  const push = wire._push.bind(wire);
  let batch: Uint8Array[] = [];
  let batchBytes = 0;
  let scheduled: NodeJS.Immediate | undefined;
  const flush = (): void => {
    if (scheduled !== undefined) clearImmediate(scheduled);
    scheduled = undefined;
    if (batch.length === 0) return;
    const messages = batch;
    const bytes = batchBytes;
    batch = [];
    batchBytes = 0;
    push(messages.length === 1 ? messages[0]! : Buffer.concat(messages, bytes));
  };
  wire._push = (data: Uint8Array): boolean => {
    batch.push(data);
    batchBytes += data.length;
    if (batchBytes >= maxBatchBytes) flush();
    else scheduled ??= setImmediate(flush);
    return true;
  };
}
