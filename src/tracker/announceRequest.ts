/** One BEP 3 announce, validated: what the tracker acts on. */
export interface AnnounceRequest {
  /** Lower-case hex, as the admission check and the swarm registry key it. */
  infoHash: string;
  /** Lower-case hex of the 20 bytes. */
  peerId: string;
  port: number;
  uploaded: number;
  downloaded: number;
  left: number;
  event: AnnounceEvent;
  compact: boolean;
  noPeerId: boolean;
  numwant: number;
}

export const announceEvents = ['started', 'stopped', 'completed', 'empty'] as const;
export type AnnounceEvent = (typeof announceEvents)[number];

export const defaultNumwant = 50;
export const maxNumwant = 200;

/** At most 16 digits: byte counts stay exact as numbers (below 2^53). */
const decimal = /^\d{1,16}$/;

/**
 * Reads an announce from the raw query. `ip` is deliberately not read: the tracker uses the
 * socket's address, so a peer cannot announce someone else into the swarm.
 */
export function parseAnnounce(query: Map<string, Buffer[]>): { request: AnnounceRequest } | { failure: string } {
  const single = (name: string): Buffer | undefined => {
    const values = query.get(name);
    return values?.length === 1 ? values[0] : undefined;
  };
  const text = (name: string): string | undefined => single(name)?.toString('latin1');
  const count = (name: string, fallback?: number): number | undefined => {
    const value = text(name);
    if (value === undefined) return fallback;
    return decimal.test(value) ? Number(value) : undefined;
  };

  const infoHash = single('info_hash');
  if (infoHash?.length !== 20) return { failure: 'info_hash must be 20 bytes' };
  const peerId = single('peer_id');
  if (peerId?.length !== 20) return { failure: 'peer_id must be 20 bytes' };
  const port = count('port');
  if (port === undefined || port < 1 || port > 65_535) return { failure: 'port must be an integer from 1 to 65535' };
  const left = count('left');
  if (left === undefined) return { failure: 'left must be a non-negative integer' };
  const uploaded = count('uploaded', 0);
  const downloaded = count('downloaded', 0);
  if (uploaded === undefined || downloaded === undefined) return { failure: 'uploaded and downloaded must be non-negative integers' };

  const eventText = text('event') ?? '';
  const event = eventText === '' ? 'empty' : announceEvents.find((known) => known === eventText);
  if (event === undefined) return { failure: `event must be one of ${announceEvents.join(', ')}` };
  const numwant = count('numwant');

  return {
    request: {
      infoHash: infoHash.toString('hex'),
      peerId: peerId.toString('hex'),
      port,
      uploaded,
      downloaded,
      left,
      event,
      // BEP 23: compact unless the client asks otherwise.
      compact: text('compact') !== '0',
      noPeerId: text('no_peer_id') === '1',
      numwant: numwant === undefined ? defaultNumwant : Math.min(numwant, maxNumwant),
    },
  };
}
