import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Announce keys: the credential a BitTorrent client carries in its announce URL, because it cannot
 * send an Authorization header. A key names one transfer and one fleet node (or an external client)
 * and carries an HMAC-SHA256 tag under the control plane's secret: it needs no storage and verifies
 * on any api replica that shares the secret.
 *
 * Layout, base64url without padding, so it is one URL path segment:
 *   version (1 byte) ‖ transfer id (the UUID's 16 bytes) ‖ node id (UTF-8; empty = external) ‖ tag (16 bytes)
 * Packing the UUID as bytes keeps the key for a typical node id near 60 characters.
 */
const version = 1;
/** 128 bits of the HMAC: forging a tag still takes about 2^128 tries. */
const tagBytes = 16;
const uuidBytes = 16;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Domain separation: the same secret may one day tag other things; a tag for those is never a key. */
const context = Buffer.from('torrentedge announce key\0', 'utf8');

export interface AnnounceKeySubject {
  transferId: string;
  /** null for a standard client outside the fleet ('external'): admitted, but without locality. */
  nodeId: string | null;
}

export interface AnnounceKeys {
  issue(subject: AnnounceKeySubject): string;
  /** The subject of a key this secret issued, or undefined for anything else. */
  verify(key: string): AnnounceKeySubject | undefined;
}

export function createAnnounceKeys(secret: Buffer): AnnounceKeys {
  if (secret.length < 32) throw new Error(`the announce key secret needs at least 32 bytes, it has ${secret.length}`);
  const tagOf = (body: Buffer): Buffer => createHmac('sha256', secret).update(context).update(body).digest().subarray(0, tagBytes);

  return {
    issue({ transferId, nodeId }) {
      if (!uuid.test(transferId)) throw new Error(`transfer id "${transferId}" is not a UUID`);
      if (nodeId === '') throw new Error('a node id cannot be empty; pass null for an external client');
      const body = Buffer.concat([Buffer.of(version), Buffer.from(transferId.replaceAll('-', ''), 'hex'), Buffer.from(nodeId ?? '', 'utf8')]);
      return Buffer.concat([body, tagOf(body)]).toString('base64url');
    },

    verify(key) {
      const raw = Buffer.from(key, 'base64url');
      // Node's decoder skips characters outside the alphabet and ignores spare trailing bits; only
      // the canonical spelling counts, so a key has exactly one form (and tampering always shows).
      if (raw.length < 1 + uuidBytes + tagBytes || raw[0] !== version || raw.toString('base64url') !== key) return undefined;
      const body = raw.subarray(0, raw.length - tagBytes);
      if (!timingSafeEqual(tagOf(body), raw.subarray(raw.length - tagBytes))) return undefined;
      const hex = body.subarray(1, 1 + uuidBytes).toString('hex');
      const transferId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
      const nodeId = body.subarray(1 + uuidBytes).toString('utf8');
      return { transferId, nodeId: nodeId === '' ? null : nodeId };
    },
  };
}

/** The path the tracker route serves; one place, so issuers and the route agree. */
export const announcePath = (key: string): string => `/tracker/${key}/announce`;

/** The announce URL to put in a torrent or hand to a worker, from the api's base URL. */
export const announceUrl = (apiBaseUrl: string, key: string): string => `${apiBaseUrl.replace(/\/+$/, '')}${announcePath(key)}`;
