import type { LinkSample } from './linkSampler.ts';
import type { FleetNetwork, LinkCounters } from './network.ts';
import type { FleetOptions } from './options.ts';
import type { NodeProcessUse } from './processSampler.ts';

const bytesPerSecond = (mbit: number): number => (mbit * 1e6) / 8;

/**
 * DESIGN §5: T_lb = max(F/u_s, F/min d_i, N·F/(u_s + Σu_i)), from the shaped (nominal) rates, so
 * TCP/IP headers (about 4.5% of a 1500-byte frame) are part of every measured time. With shaped
 * rack uplinks every rack must also take in F through its uplink: F/rack rate joins the max.
 */
export function lowerBoundSeconds(options: FleetOptions): number {
  const F = options.sizeBytes;
  const us = bytesPerSecond(options.originMbit);
  const u = bytesPerSecond(options.nodeMbit);
  const bounds = [F / us, F / u, (options.nodes * F) / (us + options.nodes * u)];
  if (options.racks > 0 && options.rackMbit !== undefined) bounds.push(F / bytesPerSecond(options.rackMbit));
  return Math.max(...bounds);
}

/** Nearest rank: the reported figure is one node's actual time; an unfinished node is +∞. */
export function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(fraction * sorted.length)) - 1] ?? Number.NaN;
}

export interface SystemResult {
  finishedNodes: number;
  /** null when a node did not finish (timed out or failed). */
  lastNodeSeconds: number | null;
  p50Seconds: number | null;
  p99Seconds: number | null;
  lastNodeRatio: number | null;
  p50Ratio: number | null;
  p99Ratio: number | null;
  /** Per node, in node order; null for a node that did not finish. */
  nodeSeconds: Array<number | null>;
  /** Payload bytes the origin host sent (HTTP bytes served, or the seeding client's upload count). */
  originBytes: number;
  originRatio: number;
  /** The origin's veth counter over F: payload plus TCP/IP and Ethernet headers and control traffic. */
  originWireRatio: number;
  /** Per rack, wire bytes that crossed its uplink into and out of it, over F. */
  crossRack: Array<{ rack: number; inRatio: number; outRatio: number }>;
  /** Per node, wire bytes it uploaded over F: shows whether the swarm spreads or the seed does all. */
  nodeUploadRatios: number[];
  /** Σ node upload (wire) over Σ u_i · last-node time. */
  peerUploadUtilisation: number;
  /**
   * Per node, the wire bytes it downloaded over what its link could carry until it finished
   * (d_i · its completion time; the whole run for a node that did not finish), the mean of the
   * nodes. Where the lower bound is F/min d_i, this is the share of that bound a node achieved,
   * headers included; its start and its wait for the origin count against it.
   */
  nodeDownloadUtilisation: number;
  /** About once a second: the origin's upload and the nodes' mean download and upload, Mbit/s (linkSampler.ts). */
  linkTimeline: LinkSample[];
  cpuSecondsPerGiBPerNode: number;
  /** Per node, in the order of nodeSeconds: the seed's share against the others'. */
  nodeCpuSecondsPerGiB: number[];
  peakWorkerRssBytes: number;
  /** The whole machine's busy share of its cores over the distribution, other users included. */
  hostBusyPercent: number;
  /** The fleet's own processes (nodes, origin host, control plane and tracker) as a share of the cores. */
  fleetBusyPercent: number;
  networkBound: boolean;
  allVerified: boolean;
  error?: string;
}

/** Below this share of the two cores busy the run had headroom: the links, not the CPU, set the pace. */
export const networkBoundBelowPercent = 75;

export interface Measured {
  nodeSeconds: Array<number | undefined>;
  elapsedSeconds: number;
  originBytes: number;
  counters: LinkCounters;
  processes: NodeProcessUse[];
  hostBusyPercent: number;
  fleetBusyPercent: number;
  verified: boolean[];
  linkTimeline: LinkSample[];
}

export function summarize(measured: Measured, network: FleetNetwork, options: FleetOptions, lowerBound: number): SystemResult {
  const F = options.sizeBytes;
  const finished = measured.nodeSeconds.filter((seconds): seconds is number => seconds !== undefined);
  const all = measured.nodeSeconds.map((seconds) => seconds ?? Number.POSITIVE_INFINITY);
  const finite = (value: number): number | null => (Number.isFinite(value) ? value : null);
  const last = finite(Math.max(...all));
  const p50 = finite(percentile(all, 0.5));
  const p99 = finite(percentile(all, 0.99));
  const ratio = (value: number | null): number | null => (value === null ? null : value / lowerBound);
  const link = (name: string) => measured.counters.get(name) ?? { rx: 0, tx: 0 };
  const uploaded = network.nodes.reduce((sum, node) => sum + link(node.link).rx, 0);
  const span = last ?? measured.elapsedSeconds;
  const gib = F / 2 ** 30;
  const cpuPerGiB = measured.processes.map((use) => use.cpuSeconds / gib);
  return {
    finishedNodes: finished.length,
    lastNodeSeconds: last,
    p50Seconds: p50,
    p99Seconds: p99,
    lastNodeRatio: ratio(last),
    p50Ratio: ratio(p50),
    p99Ratio: ratio(p99),
    nodeSeconds: measured.nodeSeconds.map((seconds) => seconds ?? null),
    originBytes: measured.originBytes,
    originRatio: measured.originBytes / F,
    originWireRatio: link(network.origin.link).rx / F,
    crossRack: network.rackUplinks.map((uplink, i) => ({ rack: i + 1, inRatio: link(uplink).tx / F, outRatio: link(uplink).rx / F })),
    nodeUploadRatios: network.nodes.map((node) => link(node.link).rx / F),
    peerUploadUtilisation: uploaded / (network.nodes.length * bytesPerSecond(options.nodeMbit) * span),
    nodeDownloadUtilisation:
      network.nodes.reduce((sum, node, i) => sum + link(node.link).tx / (bytesPerSecond(options.nodeMbit) * (measured.nodeSeconds[i] ?? measured.elapsedSeconds)), 0) /
      Math.max(1, network.nodes.length),
    linkTimeline: measured.linkTimeline,
    cpuSecondsPerGiBPerNode: cpuPerGiB.reduce((sum, value) => sum + value, 0) / Math.max(1, cpuPerGiB.length),
    nodeCpuSecondsPerGiB: cpuPerGiB,
    peakWorkerRssBytes: Math.max(0, ...measured.processes.map((use) => use.peakRssBytes)),
    hostBusyPercent: measured.hostBusyPercent,
    fleetBusyPercent: measured.fleetBusyPercent,
    networkBound: measured.hostBusyPercent < networkBoundBelowPercent,
    allVerified: measured.verified.length === network.nodes.length && measured.verified.every(Boolean),
  };
}
