// bittorrent-protocol and memory-chunk-store come with webtorrent and ship no declarations; this
// covers what the swarm tests use of them (a hand-driven peer, and a seeder that writes nothing).

declare module 'bittorrent-protocol' {
  import type { Duplex } from 'node:stream';

  export type RequestResponder = (error: Error | null, block?: Uint8Array) => void;

  /** One peer-wire connection; pipe a socket through it both ways. */
  export default class Wire extends Duplex {
    /** peEnabled: protocol encryption (BEP 8 / MSE); 1 takes either, 2 insists. */
    constructor(type?: string, peEnabled?: 0 | 1 | 2);
    /** Answers a 'crypto-infohash' event: the info hash the encrypted handshake is for. */
    setInfoHash(infoHash: string): void;
    peerId: string | null;
    handshake(infoHash: string | Uint8Array, peerId: string | Uint8Array, extensions?: { dht?: boolean; fast?: boolean }): void;
    bitfield(bitfield: Uint8Array): void;
    unchoke(): void;
    override on(event: 'handshake', listener: (infoHash: string, peerId: string, extensions: Record<string, boolean>) => void): this;
    override on(event: 'request', listener: (index: number, offset: number, length: number, respond: RequestResponder) => void): this;
    override on(event: string, listener: (...args: never[]) => void): this;
  }
}

declare module 'memory-chunk-store' {
  /** An abstract-chunk-store in memory: nothing touches the filesystem. */
  export default class MemoryChunkStore {
    constructor(chunkLength: number, options?: { length?: number });
    readonly chunkLength: number;
    put(index: number, buf: Uint8Array, cb?: (error: Error | null) => void): void;
    get(index: number, options: { offset?: number; length?: number } | null, cb: (error: Error | null, buf?: Uint8Array) => void): void;
    close(cb?: (error: Error | null) => void): void;
    destroy(cb?: (error: Error | null) => void): void;
  }
}
