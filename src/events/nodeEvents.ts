/** Events of the `node-<id>` stream: the fleet's membership. Heartbeats are not events. */

export interface NodeDescription {
  /** e.g. { zone: 'us-east-1a', rack: 'r12' }; target selectors match on these. */
  labels: Record<string, string>;
  /** Where the node's content-addressable store lives. */
  casVolume: string;
  /** Bytes the CAS may hold. */
  capacityBytes: number;
}

export type NodeRegistered = { type: 'NodeRegistered'; data: { nodeId: string } & NodeDescription };
export type NodeDescriptionChanged = { type: 'NodeDescriptionChanged'; data: { nodeId: string } & NodeDescription };

export type NodeEvent = NodeRegistered | NodeDescriptionChanged;

export const nodeStreamId = (nodeId: string): string => `node-${nodeId}`;
