import type { Locality } from './swarmRegistry.ts';

/** The labels that place a node; other labels do not matter to the tracker. */
export function localityOf(labels: Record<string, string> | undefined): Locality {
  const locality: Locality = {};
  if (labels?.rack !== undefined) locality.rack = labels.rack;
  if (labels?.zone !== undefined) locality.zone = labels.zone;
  return locality;
}

/**
 * 0 = same rack, 1 = same zone, 2 = the rest. Rack names are taken to be unique only within a
 * zone, so a rack match across two different zones is no match. A requester without labels
 * (an external client) ranks everyone 2.
 */
function rank(requester: Locality, peer: Locality): 0 | 1 | 2 {
  const sameZone = requester.zone !== undefined && peer.zone === requester.zone;
  const zonesDiffer = requester.zone !== undefined && peer.zone !== undefined && peer.zone !== requester.zone;
  if (requester.rack !== undefined && peer.rack === requester.rack && !zonesDiffer) return 0;
  return sameZone ? 1 : 2;
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/**
 * The peers to hand a requester: same rack first, then same zone, then the rest, so chunks
 * cross the rack uplink only when they must. Random within each group, so that load spreads
 * over the peers of a group instead of piling on the oldest. The caller excludes the requester.
 */
export function orderByLocality<P extends { locality: Locality }>(requester: Locality, candidates: readonly P[], limit: number, random: () => number): P[] {
  const groups: [P[], P[], P[]] = [[], [], []];
  for (const peer of candidates) groups[rank(requester, peer.locality)].push(peer);
  const ordered: P[] = [];
  for (const group of groups) {
    if (ordered.length >= limit) break;
    ordered.push(...shuffle(group, random));
  }
  return ordered.slice(0, limit);
}
