/**
 * Worker heartbeats: ephemeral, never events (DESIGN §3). Each api replica keeps the ones it
 * received; a node is alive while its last heartbeat is younger than the TTL.
 */
export interface Heartbeat {
  nodeId: string;
  workerId: string;
  activeJobs: number;
  casBytes: number | null;
  receivedAt: Date;
}

export function createHeartbeatRegistry(options: { ttlMs: number; clock?: () => Date }) {
  const clock = options.clock ?? (() => new Date());
  const latest = new Map<string, Heartbeat>();
  const isAlive = (beat: Heartbeat): boolean => clock().getTime() - beat.receivedAt.getTime() <= options.ttlMs;
  return {
    record(beat: Omit<Heartbeat, 'receivedAt'>): Heartbeat {
      const recorded = { ...beat, receivedAt: clock() };
      latest.set(beat.nodeId, recorded);
      return recorded;
    },
    /** The node's last heartbeat while it is alive; undefined once the TTL has passed. */
    current(nodeId: string): Heartbeat | undefined {
      const beat = latest.get(nodeId);
      if (beat === undefined) return undefined;
      if (isAlive(beat)) return beat;
      latest.delete(nodeId);
      return undefined;
    },
  };
}

export type HeartbeatRegistry = ReturnType<typeof createHeartbeatRegistry>;
