/** Where a node sits, from its labels; empty for an external client. */
export interface Locality {
  rack?: string;
  zone?: string;
}

/** The labels that place a node; other labels do not matter to placement. */
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
export function localityRank(requester: Locality, peer: Locality): 0 | 1 | 2 {
  const sameZone = requester.zone !== undefined && peer.zone === requester.zone;
  const zonesDiffer = requester.zone !== undefined && peer.zone !== undefined && peer.zone !== requester.zone;
  if (requester.rack !== undefined && peer.rack === requester.rack && !zonesDiffer) return 0;
  return sameZone ? 1 : 2;
}
