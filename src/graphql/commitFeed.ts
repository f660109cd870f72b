import type { RecordedEvent } from '../events/eventLog.ts';
import type { ChunkBatch, GraphqlPubSub, TransferCommit } from './pubsub.ts';

// The projections whose rows a transferProgress subscriber re-reads ('transfers' writes the jobs'
// rows too); the nodes projection only moves the fleet view.
const transferProjections = new Set(['transfers', 'chunks']);

const field = (event: RecordedEvent, name: string): unknown => (event.data as Record<string, unknown> | null)?.[name];

/**
 * Called by the projector after each committed batch (never before: a subscriber that re-reads
 * the read model on a push sees the rows the push is about). Publishing is fire-and-forget; a
 * lost push only delays a dashboard until the next one.
 */
export function publishCommit(pubsub: GraphqlPubSub, projection: string, events: readonly RecordedEvent[], now = new Date()): void {
  if (events.length === 0) return;
  const committedAt = now.toISOString();
  const byTransfer = new Map<string, TransferCommit>();
  const nodeIds = new Set<string>();
  for (const event of events) {
    const transferId = field(event, 'transferId');
    const nodeId = field(event, 'nodeId');
    if (typeof nodeId === 'string') nodeIds.add(nodeId);
    if (typeof transferId !== 'string') continue;
    let commit = byTransfer.get(transferId);
    if (commit === undefined) {
      commit = { transferId, projection, position: event.globalPosition, eventTypes: [], chunks: [], committedAt };
      byTransfer.set(transferId, commit);
    }
    commit.position = event.globalPosition;
    if (!commit.eventTypes.includes(event.type)) commit.eventTypes.push(event.type);
    // Chunk deltas ride on the chunks projection's commit, so that they agree with te_chunks.
    if (event.type === 'ChunksVerified' && projection === 'chunks') commit.chunks.push(chunkBatchOf(event));
  }
  if (transferProjections.has(projection)) {
    for (const commit of byTransfer.values()) pubsub.publish('te.transferProgress', commit.transferId, commit);
  }
  // Every projection sees every event: the transfers projection speaks for transfer and job events,
  // the nodes projection only for batches that hold node events, so each batch is pushed once.
  const fleetMoved = projection === 'transfers' || (projection === 'nodes' && events.some((event) => event.streamId.startsWith('node-')));
  if (fleetMoved) {
    pubsub.publish('te.fleetActivity', {
      projection,
      position: events[events.length - 1]!.globalPosition,
      transferIds: [...byTransfer.keys()],
      nodeIds: [...nodeIds],
      eventTypes: [...new Set(events.map((event) => event.type))],
      committedAt,
    });
  }
}

function chunkBatchOf(event: RecordedEvent): ChunkBatch {
  const data = event.data as { nodeId: string; source: string; chunkIndexes: number[]; bytes: number };
  return { nodeId: data.nodeId, source: data.source, chunkIndexes: data.chunkIndexes, bytes: data.bytes };
}
