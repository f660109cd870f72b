import { localityRank, type Locality } from '../locality.ts';

export { localityOf } from '../locality.ts';

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
  for (const peer of candidates) groups[localityRank(requester, peer.locality)].push(peer);
  const ordered: P[] = [];
  for (const group of groups) {
    if (ordered.length >= limit) break;
    ordered.push(...shuffle(group, random));
  }
  return ordered.slice(0, limit);
}
