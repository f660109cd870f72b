import type { Wire } from 'webtorrent';

/** Up to this many bytes of messages go out as one buffer; more is flushed at once. */
const maxBatchBytes = 64 * 1024;
/** A batch starts this small (Buffer.allocUnsafe takes it from Node's shared slab) and grows once. */
const smallBatchBytes = 4 * 1024 - 1;

/**
 * Sends the messages a wire writes in one turn of the event loop as one buffer. bittorrent-protocol
 * pushes every message (a 17-byte request; a piece as a 13-byte header and a 16 KiB block) on its
 * own through the peer's stream pipeline (two throttles, two byte counters) to its own socket
 * write: 65,536 requests and 131,072 piece writes per GiB. All messages pass through `_push`, so
 * batching there keeps their order. Upstream, this would be a cork in bittorrent-protocol.
 *
 * Each message is copied into the batch as it is pushed, never kept by reference: a block the
 * engine serves is a view of a read-ahead window that the CAS reads into again once the block is
 * sent (CasChunkStore's callbackCopiesReads). The copy is the one the batch needs anyway.
 */
export function coalesceWireWrites(wire: Wire): void {
  const push = wire._push.bind(wire);
  let batch: Buffer | undefined;
  let used = 0;
  let scheduled: NodeJS.Immediate | undefined;
  const flush = (): void => {
    if (scheduled !== undefined) clearImmediate(scheduled);
    scheduled = undefined;
    if (batch === undefined) return;
    const out = batch.subarray(0, used);
    batch = undefined;
    used = 0;
    push(out);
  };
  wire._push = (data: Uint8Array): boolean => {
    if (data.length > maxBatchBytes) {
      flush();
      push(Buffer.from(data));
      return true;
    }
    if (batch !== undefined && used + data.length > batch.length) {
      if (batch.length < maxBatchBytes) {
        const grown = Buffer.allocUnsafe(maxBatchBytes);
        batch.copy(grown, 0, 0, used);
        batch = grown;
      }
      if (used + data.length > batch.length) flush();
    }
    batch ??= Buffer.allocUnsafe(data.length > smallBatchBytes ? maxBatchBytes : smallBatchBytes);
    batch.set(data, used);
    used += data.length;
    if (used === maxBatchBytes) flush();
    else scheduled ??= setImmediate(flush);
    return true;
  };
}
