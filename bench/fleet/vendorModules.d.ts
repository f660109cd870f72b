// create-torrent and bittorrent-tracker's server ship no type declarations; this covers what the
// fleet benchmark uses of them (both come with webtorrent).
declare module 'bittorrent-tracker/server' {
  import type { EventEmitter } from 'node:events';
  import type { Server as HttpServer } from 'node:http';

  export default class Server extends EventEmitter {
    constructor(options: { http?: boolean; udp?: boolean; ws?: boolean; stats?: boolean; trustProxy?: boolean });
    http: HttpServer | null;
    listen(port: number, hostname: string, onListening?: () => void): void;
    close(callback?: () => void): void;
  }
}

declare module 'create-torrent' {
  export default function createTorrent(
    input: string,
    options: { announceList?: string[][]; name?: string; private?: boolean; createdBy?: string },
    callback: (error: Error | null, torrent: Uint8Array) => void,
  ): void;
}
