// webtorrent 3 ships no declarations (and @types/webtorrent describes 0.x); this covers what the engine uses.
declare module 'webtorrent' {
  import type { EventEmitter } from 'node:events';

  export interface Wire extends EventEmitter {
    peerId: string;
    /** Who dialled: 'tcpOutgoing' when this end did, 'tcpIncoming' when the peer did. */
    type: string;
    destroyed: boolean;
    remoteAddress: string;
    destroy(): void;
    /** streamx's Writable hook, which bittorrent-protocol implements: the engine wraps it for backpressure. */
    _write: (data: Uint8Array, cb: (error?: Error | null) => void) => void;
    /** Bytes received and not parsed yet, and how many the parser waits for (bittorrent-protocol internals). */
    _bufferSize: number;
    _parserSize: number;
    /** The extensions the peer's handshake announced (known by the 'wire' event). */
    peerExtensions: { extended?: boolean; fast?: boolean; dht?: boolean };
    /** Sent to the peer in the BEP 10 extended handshake, after the 'wire' event. */
    extendedHandshake: Record<string, unknown>;
    /** The peer's BEP 10 extended handshake, once it arrived ('extended' event, name 'handshake'). */
    peerExtendedHandshake: Record<string, unknown>;
    /** bittorrent-protocol's single path for outgoing messages: the engine wraps it to batch them. */
    _push: (data: Uint8Array) => boolean;
    /** Drops the wire when requests go unanswered for `ms` (webtorrent sets 30 s). */
    setTimeout(ms: number, unref?: boolean): void;
    /** Blocks requested from the peer and not yet received. */
    requests: unknown[];
    /** The pieces the peer has announced. */
    peerPieces: { get(index: number): boolean };
    /** Announce one piece, all of them (fast extension) or a bitfield: the super-seeder replaces the last two. */
    have(index: number): void;
    haveAll: () => void;
    bitfield: (bitfield: Uint8Array) => void;
  }

  export interface Torrent extends EventEmitter {
    infoHash: string;
    numPeers: number;
    uploaded: number;
    downloaded: number;
    progress: number;
    wires: Wire[];
    pieceLength: number;
    lastPieceLength: number;
    /** One entry per piece (null once verified); only its length is used. */
    pieces: unknown[];
    bitfield: { get(index: number): boolean };
    destroyed: boolean;
    /** Requests the next free block of a piece over a wire; false when it cannot (internal: the engine wraps it). */
    _request(wire: Wire, index: number, hotswap: boolean): boolean;
    /** Asks every wire for more requests (internal; the engine calls it to wake a segment it held back). */
    _update(): void;
    /** The info dictionary's SHA-1 per piece, hex (internal; set once the torrent has its metadata). */
    _hashes?: readonly string[];
    /** Destroys the torrent and emits 'error' with `error` (internal; what webtorrent does when a put fails). */
    _destroy(error: Error): void;
    /** The rarest-first picker (set once the torrent has its metadata): the engine wraps it. */
    _rarityMap?: { getRarestPiece: (filter?: (index: number) => boolean) => number } | null;
    files: Array<{ path: string; length: number; offset: number }>;
    addPeer(peer: string): boolean;
    /**
     * Dials `peer` ("ip:port") unless a peer of that address is known (internal): the one path for
     * addresses from the tracker, PEX and redials after a dialled connection closed (1, 5, 15 s).
     */
    _addPeer(peer: unknown, type: string, source: string): unknown;
  }

  export interface AddOptions {
    store?: unknown;
    storeOpts?: Record<string, unknown>;
    skipVerify?: boolean;
    bitfield?: Uint8Array;
    private?: boolean;
    announce?: string[];
    destroyStoreOnDestroy?: boolean;
    /** Where the default file-system store writes (a stock client). */
    path?: string;
    storeCacheSlots?: number;
    strategy?: 'rarest' | 'sequential';
    /** Peers unchoked at once (webtorrent's rechoke; default 10). */
    uploads?: number;
    /** Checks an assembled piece instead of its SHA-1; added by patches/webtorrent+3.0.21.patch. */
    verifyPiece?: (index: number, buf: Uint8Array) => boolean | Promise<boolean>;
  }

  /** The client options this project sets; a closed list, so that a misspelt one fails the typecheck. */
  export interface ClientOptions {
    dht?: boolean;
    lsd?: boolean;
    tracker?: boolean;
    utp?: boolean;
    utPex?: boolean;
    natUpnp?: boolean;
    natPmp?: boolean;
    webSeeds?: boolean;
    torrentPort?: number;
    maxConns?: number;
    /** Bytes per second; -1 for no limit. */
    downloadLimit?: number;
    uploadLimit?: number;
    /** Protocol encryption (MSE/PE) of the connections the client makes: 0 none, 1 PE with plaintext preferred, 2 PE and RC4 only. */
    secure?: 0 | 1 | 2;
    /** As `secure`, for the connections peers make to the client (default `secure`); added by patches/webtorrent+3.0.21.patch. */
    secureIncoming?: 0 | 1 | 2;
  }

  export default class WebTorrent extends EventEmitter {
    constructor(options?: ClientOptions);
    static WEBRTC_SUPPORT: boolean;
    peerId: string;
    torrentPort: number;
    torrents: Torrent[];
    add(torrentId: Buffer | string, options?: AddOptions, onTorrent?: (torrent: Torrent) => void): Torrent;
    get(torrentId: string): Promise<Torrent | null>;
    remove(torrentId: string, options: { destroyStore?: boolean }, callback: (error?: Error) => void): void;
    destroy(callback: (error?: Error) => void): void;
  }
}

declare module 'fs-chunk-store' {
  export default class FSChunkStore {
    constructor(chunkLength: number, options: { path: string; length: number });
    readonly chunkLength: number;
  }
}

declare module 'torrent-piece' {
  /** One piece being assembled from 16 KiB blocks (as patched by patches/torrent-piece+4.0.1.patch). */
  export default class Piece {
    /** Where each piece's buffer comes from (the patch's hook): the engine hands out reused ones. */
    static allocate: (length: number) => Uint8Array;
    constructor(length: number);
    readonly length: number;
    missing: number;
    _buffer: (Uint8Array | undefined)[] | null;
    reserve(): number;
    chunkLength(index: number): number;
    chunkOffset(index: number): number;
    set(index: number, data: Uint8Array, source: unknown): boolean;
    flush(): Uint8Array | null;
  }
}
