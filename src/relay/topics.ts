import type { TopicSpec } from '../bus/messageBus.ts';

/** The topics the control plane publishes to; created at start-up with the configured partitions. */
export interface RelayTopics {
  /** Every event, keyed by stream id: per-stream order. */
  events: TopicSpec;
  /** JOB_ASSIGNED directives, keyed by node id: a node's directives in order. */
  dispatch: TopicSpec;
  /** Messages a consumer gave up on, with the error. */
  deadLetter: TopicSpec;
}

export function relayTopics(partitions: { events: number; dispatch: number }): RelayTopics {
  return {
    events: { name: 'torrent.events', partitions: partitions.events },
    dispatch: { name: 'torrent.jobs.dispatch', partitions: partitions.dispatch },
    deadLetter: { name: 'torrent.deadletter', partitions: 1 },
  };
}
