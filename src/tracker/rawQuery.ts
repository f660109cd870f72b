/**
 * BitTorrent puts 20 raw bytes (info_hash, peer_id) in the query string, percent-encoded byte by
 * byte. URLSearchParams, querystring and fastify's parser decode to UTF-8 text, which turns every
 * byte that is not part of a valid UTF-8 sequence into U+FFFD: the hash is lost. These decode to bytes.
 */

const hexDigit = (code: number): number => {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
};

/** The bytes of one percent-encoded component, or undefined when it is malformed. */
export function percentDecodeBytes(text: string): Buffer | undefined {
  const out = Buffer.alloc(text.length);
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x25 /* % */) {
      const high = hexDigit(text.charCodeAt(i + 1));
      const low = hexDigit(text.charCodeAt(i + 2));
      if (high < 0 || low < 0) return undefined;
      out[length++] = (high << 4) | low;
      i += 2;
    } else if (code === 0x2b /* + */) {
      // Form encoding: '+' is a space. Clients send the byte 0x2B as %2B.
      out[length++] = 0x20;
    } else if (code < 0x80) {
      out[length++] = code;
    } else {
      return undefined; // a request target carries only ASCII
    }
  }
  return out.subarray(0, length);
}

/**
 * The query of a raw request target (`/path?a=1&b=%ff`) as name → values, each value as bytes.
 * Names are ASCII in practice and returned as text. Undefined when any component is malformed.
 */
export function parseRawQuery(rawUrl: string): Map<string, Buffer[]> | undefined {
  const query = new Map<string, Buffer[]>();
  const start = rawUrl.indexOf('?');
  if (start === -1) return query;
  for (const pair of rawUrl.slice(start + 1).split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const name = percentDecodeBytes(equals === -1 ? pair : pair.slice(0, equals));
    const value = percentDecodeBytes(equals === -1 ? '' : pair.slice(equals + 1));
    if (name === undefined || value === undefined) return undefined;
    const key = name.toString('latin1');
    const values = query.get(key);
    if (values === undefined) query.set(key, [value]);
    else values.push(value);
  }
  return query;
}
