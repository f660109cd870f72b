import { readFileSync } from 'node:fs';
import { counterDelta, type FleetHost, type FleetNetwork, type LinkCounters } from './network.ts';

/** One second (or so) of the run: mean rates over the interval that ends at `second`, in Mbit/s. */
export interface LinkSample {
  second: number;
  originUpMbit: number;
  /** Over the nodes that had not finished when the interval began: a finished node's idle link is not the swarm's loss. */
  nodeDownMbit: number;
  /** Over all nodes: a finished node goes on serving. */
  nodeUpMbit: number;
}

interface Reading {
  at: number;
  counters: LinkCounters;
}

/**
 * The byte counters of the host-side links, from sysfs, read synchronously: a few dozen small
 * files take well under a millisecond, so the instant of the reading is known. An `ip -s -j link`
 * a second was no good on a busy host: the process took up to a few hundred milliseconds to
 * start, and the rates were off by as much.
 */
function readLinkCounters(links: readonly string[]): LinkCounters {
  const counter = (link: string, name: 'rx_bytes' | 'tx_bytes'): number => Number(readFileSync(`/sys/class/net/${link}/statistics/${name}`, 'utf8'));
  return new Map(links.map((link) => [link, { rx: counter(link, 'rx_bytes'), tx: counter(link, 'tx_bytes') }]));
}

/**
 * Reads the origin's and the nodes' link counters about once a second while a system distributes,
 * so a run shows when the nodes' links were used and when they idled (the start, the read of the
 * origin, the tail), not only the totals. Each rate is over the time actually between two readings.
 */
export function startLinkSampler(network: FleetNetwork, intervalMs = 1000) {
  const links = [network.origin.link, ...network.nodes.map((node) => node.link)];
  const readings: Reading[] = [];
  const started = performance.now();
  const take = (): void => {
    try {
      readings.push({ at: (performance.now() - started) / 1000, counters: readLinkCounters(links) });
    } catch {
      // A link removed under us (the run is being torn down): the readings so far stand.
    }
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    /** Takes the last reading and stops; called however the distribution ended, so no timer outlives a failed run. */
    stop(): void {
      clearInterval(timer);
      take();
    },
    /** The rates between the readings, given each node's completion (seconds from the start, undefined if it did not finish). */
    samples: (nodeSeconds: ReadonlyArray<number | undefined>): LinkSample[] => linkSamples(readings, network, nodeSeconds),
  };
}

const mbit = (bytes: number, seconds: number): number => (bytes * 8) / seconds / 1e6;

function linkSamples(readings: readonly Reading[], network: FleetNetwork, nodeSeconds: ReadonlyArray<number | undefined>): LinkSample[] {
  const samples: LinkSample[] = [];
  for (let i = 1; i < readings.length; i++) {
    const [before, after] = [readings[i - 1]!, readings[i]!];
    const seconds = after.at - before.at;
    if (seconds <= 0) continue;
    const delta = counterDelta(before.counters, after.counters);
    const link = (name: string) => delta.get(name) ?? { rx: 0, tx: 0 };
    const busy = network.nodes.filter((_, n) => (nodeSeconds[n] ?? Number.POSITIVE_INFINITY) > before.at);
    const mean = (nodes: readonly FleetHost[], pick: (counters: { rx: number; tx: number }) => number): number =>
      nodes.length === 0 ? 0 : nodes.reduce((sum, node) => sum + mbit(pick(link(node.link)), seconds), 0) / nodes.length;
    samples.push({
      second: Math.round(after.at * 10) / 10,
      // The host-side end of a host's veth: rx is what the host uploaded, tx what it downloaded.
      originUpMbit: mbit(link(network.origin.link).rx, seconds),
      nodeDownMbit: mean(busy, (counters) => counters.tx),
      nodeUpMbit: mean(network.nodes, (counters) => counters.rx),
    });
  }
  return samples;
}
