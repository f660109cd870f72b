import { Counter, Gauge, type Registry } from 'prom-client';

export const announceOutcomes = [
  'ok',
  'bad_key',
  'malformed',
  'unknown_transfer',
  'info_hash_not_allowed',
  'peer_id_in_use',
  'swarm_full',
  'error',
] as const;
export type AnnounceOutcome = (typeof announceOutcomes)[number];

/** The tracker's metrics, on the process's registry (see observability/metrics.ts). */
export function createTrackerMetrics(registry: Registry) {
  const announcesTotal = new Counter({
    name: 'torrentedge_tracker_announces_total',
    help: 'Tracker announces, by outcome (ok, or why the announce was refused)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  // Every outcome is exported from the start at 0, so a rate() over a first refusal is not lost.
  for (const outcome of announceOutcomes) announcesTotal.inc({ outcome }, 0);
  const peers = new Gauge({
    name: 'torrentedge_tracker_peers',
    help: 'Peers in the swarms this api process tracks, as of the last announce',
    registers: [registry],
  });
  return { announcesTotal, peers };
}

export type TrackerMetrics = ReturnType<typeof createTrackerMetrics>;
