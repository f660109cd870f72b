import { table } from '../lib/table.ts';
import type { Machine } from '../lib/machine.ts';
import type { SystemResult } from './metrics.ts';
import type { SystemName } from './options.ts';

export interface FleetReport {
  nodes: number;
  artifactBytes: number;
  lowerBoundSeconds: number;
  /** Every system's run left the two cores headroom (see metrics.ts). */
  networkBound: boolean;
  shaping: { nodeMbit: number; originMbit: number; racks: number; rackMbit: number | null };
  machine: Machine;
  systems: Partial<Record<SystemName, SystemResult>>;
}

const seconds = (value: number | null): string => (value === null ? '—' : value.toFixed(1));
const times = (value: number | null): string => (value === null ? '—' : `${value.toFixed(2)}×`);

export function formatReport(report: FleetReport): string {
  const { shaping } = report;
  const racked = shaping.racks > 0;
  const header = ['system', 'last s', 'p50 s', 'p99 s', 'last/T_lb', 'p99/T_lb', 'origin/F', 'origin wire/F', ...(racked ? ['max rack in/F'] : []), 'peer up util', 'node down util', 'CPU s/GiB/node', 'peak RSS MiB', 'busy host (fleet)', 'verified'];
  const rows = Object.entries(report.systems).map(([name, r]) => [
    name,
    seconds(r.lastNodeSeconds),
    seconds(r.p50Seconds),
    seconds(r.p99Seconds),
    times(r.lastNodeRatio),
    times(r.p99Ratio),
    r.originRatio.toFixed(3),
    r.originWireRatio.toFixed(3),
    ...(racked ? [Math.max(0, ...r.crossRack.map((rack) => rack.inRatio)).toFixed(2)] : []),
    `${(100 * r.peerUploadUtilisation).toFixed(0)}%`,
    `${(100 * r.nodeDownloadUtilisation).toFixed(0)}%`,
    r.cpuSecondsPerGiBPerNode.toFixed(2),
    (r.peakWorkerRssBytes / 2 ** 20).toFixed(0),
    `${r.hostBusyPercent.toFixed(0)}% (${r.fleetBusyPercent.toFixed(0)}%)`,
    r.error === undefined ? `${r.allVerified ? 'yes' : 'NO'} (${r.finishedNodes}/${report.nodes})` : `failed: ${r.error.slice(0, 60)}`,
  ]);
  return [
    `fleet: ${report.nodes} nodes, ${(report.artifactBytes / 2 ** 20).toFixed(0)} MiB; nodes ${shaping.nodeMbit} Mbit/s, origin ${shaping.originMbit} Mbit/s` +
      (racked ? `, ${shaping.racks} racks, uplinks ${shaping.rackMbit ?? 'unshaped'} Mbit/s` : '') +
      `; T_lb ${report.lowerBoundSeconds.toFixed(1)} s; ${report.machine.cpu}, ${report.machine.cores} cores`,
    '',
    table([header, ...rows]),
    '',
    `network-bound (host CPU below 75% busy in every run): ${report.networkBound ? 'yes' : 'NO'}`,
  ].join('\n');
}
