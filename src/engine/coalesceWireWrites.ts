import type { Wire } from 'webtorrent';

/** Up to this many bytes of messages go out as one buffer; more is flushed at once. */
const maxBatchBytes = 64 * 1024;
/** bittorrent-protocol sends a piece as a header of its own (length, id 7, index, offset), then the block. */
const pieceHeaderBytes = 13;
const pieceId = 7;

/**
 * Sends the messages a wire writes in one turn of the event loop as one buffer. bittorrent-protocol
 * pushes every message (a 17-byte request; a piece as a 13-byte header and a 16 KiB block) on its
 * own through the peer's stream pipeline (two throttles, two byte counters) to its own socket
 * write: 65,536 requests and 131,072 piece writes per GiB. All messages pass through `_push`, so
 * batching there keeps their order. Upstream, this would be a cork in bittorrent-protocol.
 *
 * A block is copied into the batch when it is pushed, never kept by reference: the engine serves
 * blocks as views of read-ahead windows that the CAS reads into again once the block is sent
 * (CasChunkStore's callbackCopiesReads). That copy is the one the batch needs anyway. Other
 * messages are bittorrent-protocol's own new buffers; a batch of only those is joined when sent.
 */
export function coalesceWireWrites(wire: Wire): void {
  const push = wire._push.bind(wire);
  /** Messages kept as pushed, until a block comes. */
  let views: Uint8Array[] = [];
  let viewBytes = 0;
  /** Once a block came: the batch, copied in. */
  let batch: Buffer | undefined;
  let used = 0;
  let nextIsBlock = false;
  let scheduled: NodeJS.Immediate | undefined;

  const flush = (): void => {
    if (scheduled !== undefined) clearImmediate(scheduled);
    scheduled = undefined;
    if (batch !== undefined) {
      // One block in a 64 KiB buffer would keep 64 KiB alive while the socket queues it (slow
      // links queue many): a batch half empty goes out in a copy of its size.
      const out = used > maxBatchBytes / 2 ? batch.subarray(0, used) : Buffer.from(batch.subarray(0, used));
      batch = undefined;
      used = 0;
      push(out);
      return;
    }
    if (views.length === 0) return;
    const messages = views;
    views = [];
    const bytes = viewBytes;
    viewBytes = 0;
    push(messages.length === 1 ? messages[0]! : Buffer.concat(messages, bytes));
  };

  wire._push = (data: Uint8Array): boolean => {
    const isBlock = nextIsBlock;
    nextIsBlock = data.length === pieceHeaderBytes && data[4] === pieceId;
    if (!isBlock && batch === undefined) {
      views.push(data);
      viewBytes += data.length;
      if (viewBytes >= maxBatchBytes) flush();
      else scheduled ??= setImmediate(flush);
      return true;
    }
    if (data.length > maxBatchBytes) {
      flush();
      push(Buffer.from(data));
      return true;
    }
    if (batch === undefined) {
      // The messages before it (its header among them) go first, in the batch or before it.
      if (viewBytes + data.length > maxBatchBytes) flush();
      batch = Buffer.allocUnsafe(maxBatchBytes);
      for (const message of views) {
        batch.set(message, used);
        used += message.length;
      }
      views = [];
      viewBytes = 0;
    } else if (used + data.length > maxBatchBytes) {
      flush();
      batch = Buffer.allocUnsafe(maxBatchBytes);
    }
    batch.set(data, used);
    used += data.length;
    if (used === maxBatchBytes) flush();
    else scheduled ??= setImmediate(flush);
    return true;
  };
}
