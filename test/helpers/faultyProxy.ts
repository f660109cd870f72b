import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';

/** What the proxy does to the next ranged response once this many bytes of it went through. */
export type ResponseFault = { kind: 'cut' | 'stall'; afterBytes: number };

/**
 * A TCP proxy on loopback in front of an HTTP server, for faults a server does not make on its
 * own: the response to the next ranged request is cut (both sockets destroyed, a reset mid-body)
 * or stalled (nothing more forwarded, the connection left open) after `afterBytes` bytes.
 * Records the Range header of every request that passes.
 */
export async function startFaultyProxy(upstreamPort: number) {
  const ranges: string[] = [];
  const sockets = new Set<Socket>();
  let fault: ResponseFault | undefined;
  const server = createServer((client) => {
    const upstream = connect(upstreamPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let armed: ResponseFault | undefined;
    let sent = 0;
    client.on('data', (data: Buffer) => {
      for (const match of data.toString('latin1').matchAll(/^range: *(bytes=\d+-\d+)/gim)) {
        ranges.push(match[1]!);
        if (fault !== undefined && armed === undefined) [armed, fault, sent] = [fault, undefined, 0];
      }
      upstream.write(data);
    });
    upstream.on('data', (data: Buffer) => {
      if (armed === undefined) return void client.write(data);
      const room = armed.afterBytes - sent;
      if (room > 0) client.write(data.subarray(0, room));
      sent += data.length;
      if (sent < armed.afterBytes) return;
      if (armed.kind === 'cut') {
        client.resetAndDestroy();
        upstream.destroy();
      }
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    ranges,
    /** Applies to the next request with a Range header. */
    arm(next: ResponseFault): void {
      fault = next;
      ranges.length = 0;
    },
    async stop(): Promise<void> {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
