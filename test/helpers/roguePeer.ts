import { connect, createServer, type Socket } from 'node:net';
import Wire from 'bittorrent-protocol';

/** One connection of the rogue peer, as the tests observe it. */
export interface RogueConnection {
  readonly direction: 'accepted' | 'dialled';
  readonly peerId: string;
  /** The other side's handshake arrived. */
  handshaken: boolean;
  /** Requests answered (each with wrong bytes). */
  requests: number;
  closed: boolean;
}

export interface RoguePeer {
  readonly port: number;
  readonly peerId: string;
  /** Every connection, accepted or dialled, in order. */
  readonly connections: readonly RogueConnection[];
  /** Dials a client's torrent port and handshakes for the same info hash, as `peerId` (default: its own). */
  dial(port: number, peerId?: string): RogueConnection;
  close(): Promise<void>;
}

export interface RoguePeerOptions {
  infoHash: string;
  /** 40 hex characters. */
  peerId: string;
  pieceLength: number;
  /** The torrent's true bytes; every block it serves is these with the low bit of each byte flipped. */
  content: Uint8Array;
  /** 'silent': it takes requests and never answers them (a peer stuck mid-transfer). Default 'flip'. */
  behaviour?: 'flip' | 'silent';
}

/**
 * A peer speaking real peer-wire protocol that claims every piece, unchokes whoever is interested and answers
 * every request with the right number of wrong bytes: each piece it delivers fails SHA-1.
 */
export async function startRoguePeer(options: RoguePeerOptions): Promise<RoguePeer> {
  const connections: RogueConnection[] = [];
  const sockets = new Set<Socket>();
  const pieceCount = Math.ceil(options.content.length / options.pieceLength);

  const run = (socket: Socket, connection: RogueConnection): Wire => {
    sockets.add(socket);
    connections.push(connection);
    socket.on('error', () => {}); // the client hanging up on a liar is the point
    socket.once('close', () => {
      connection.closed = true;
      sockets.delete(socket);
    });
    // webtorrent dials with protocol encryption (secure: 1) and takes a plaintext handshake dialling in.
    const wire = connection.direction === 'accepted' ? new Wire('tcpIncoming', 1) : new Wire();
    wire.on('error', () => {});
    wire.on('crypto-infohash', () => wire.setInfoHash(options.infoHash));
    socket.pipe(wire).pipe(socket);
    wire.on('handshake', (infoHash) => {
      connection.handshaken = true;
      if (infoHash !== options.infoHash) return void socket.destroy();
      if (connection.direction === 'accepted') wire.handshake(options.infoHash, connection.peerId, { dht: false });
      wire.bitfield(fullBitfield(pieceCount));
    });
    // As any client does, and not sooner: webtorrent misses an unchoke that comes in before it
    // has set up the wire (it then waits for its 5 s choke timeout and redials).
    wire.on('interested', () => wire.unchoke());
    wire.on('request', (index, offset, length, respond) => {
      const start = index * options.pieceLength + offset;
      if (offset + length > options.pieceLength || start + length > options.content.length) return respond(new Error('request out of range'));
      connection.requests++;
      if (options.behaviour === 'silent') return;
      respond(null, options.content.subarray(start, start + length).map((byte) => byte ^ 0x01));
    });
    return wire;
  };

  const server = createServer((socket) => void run(socket, { direction: 'accepted', peerId: options.peerId, handshaken: false, requests: 0, closed: false }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the rogue peer has no TCP port');

  return {
    port: address.port,
    peerId: options.peerId,
    connections,
    dial(port, peerId = options.peerId) {
      const connection: RogueConnection = { direction: 'dialled', peerId, handshaken: false, requests: 0, closed: false };
      const socket = connect(port, '127.0.0.1');
      run(socket, connection).handshake(options.infoHash, peerId, { dht: false });
      return connection;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function fullBitfield(pieceCount: number): Uint8Array {
  const bits = new Uint8Array(Math.ceil(pieceCount / 8));
  for (let index = 0; index < pieceCount; index++) bits[index >>> 3]! |= 0x80 >>> (index & 7);
  return bits;
}
