import { isIPv4, isIPv6 } from 'node:net';

/**
 * The address a peer is announced under: the socket's, with an IPv4-mapped IPv6 address
 * (a dual-stack listener reports `::ffff:10.0.0.7`) written as the IPv4 address it is.
 * Undefined when there is no usable address (e.g. a scoped link-local one).
 */
export function peerAddressOf(remoteAddress: string | undefined): string | undefined {
  if (remoteAddress === undefined) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress);
  const address = mapped === null ? remoteAddress : mapped[1]!;
  // A scope id (fe80::1%eth0) means nothing on another host.
  return isIPv4(address) || (isIPv6(address) && !address.includes('%')) ? address : undefined;
}

/** BEP 23 / BEP 7 compact form: 4 or 16 address bytes, then the port, big-endian. */
export function compactPeer(ip: string, port: number): Buffer {
  const address = isIPv4(ip) ? Buffer.from(ip.split('.').map(Number)) : ipv6Bytes(ip);
  const out = Buffer.alloc(address.length + 2);
  address.copy(out);
  out.writeUInt16BE(port, address.length);
  return out;
}

function ipv6Bytes(ip: string): Buffer {
  const [head = '', tail] = ip.split('::');
  const groups = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!isIPv4(group)) return [parseInt(group, 16)];
          const [a, b, c, d] = group.split('.').map(Number) as [number, number, number, number];
          return [(a << 8) | b, (c << 8) | d];
        });
  const before = groups(head);
  const after = tail === undefined ? [] : groups(tail);
  const all = [...before, ...new Array<number>(8 - before.length - after.length).fill(0), ...after];
  const out = Buffer.alloc(16);
  all.forEach((group, index) => out.writeUInt16BE(group, index * 2));
  return out;
}
