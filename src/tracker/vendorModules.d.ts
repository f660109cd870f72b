// bittorrent-tracker ships no type declarations; this covers what the tests use of it.

// bittorrent-tracker comes with webtorrent; the tests announce with its client like any peer would.
declare module 'bittorrent-tracker' {
  import type { EventEmitter } from 'node:events';

  export interface ClientOptions {
    infoHash: string | Uint8Array;
    peerId: string | Uint8Array;
    announce: string | string[];
    port: number;
    getAnnounceOpts?: () => Record<string, unknown>;
  }

  export class Client extends EventEmitter {
    constructor(options: ClientOptions);
    start(options?: Record<string, unknown>): void;
    update(options?: Record<string, unknown>): void;
    complete(options?: Record<string, unknown>): void;
    stop(options?: Record<string, unknown>): void;
    destroy(callback?: (error: Error | null) => void): void;
  }

  export default Client;
}
