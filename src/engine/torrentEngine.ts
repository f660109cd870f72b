import WebTorrent, { type Wire } from 'webtorrent';
import Piece from 'torrent-piece';
import type { Logger } from 'pino';
import { CasChunkStore, ChunkReadCache, createBufferPool, PieceVerifier, verifiedBitfield, type CasChunkStoreOptions, type ContentStore } from '../cas/index.ts';
import { sha1Hex } from '../cas/digest.ts';
import { coalesceWireWrites } from './coalesceWireWrites.ts';
import { duplicateToClose, skipDialsToConnectedPeers } from './duplicateWires.ts';
import { createPeerBans } from './peerBans.ts';
import { splitAtMessageEnd } from './splitAtMessageEnd.ts';
import { createSuperSeeding } from './superSeeding.ts';
import { staggerHaves } from './staggeredHaves.ts';
import { createRackLocality } from './rackLocality.ts';
import { coalesceUpdates } from './coalesceUpdates.ts';
import type { Locality } from '../locality.ts';
import { createPieceBudget, pickStartedPiecesFirst } from './pieceSelection.ts';
import { createWriteBackpressure } from './writeBackpressure.ts';

/** The private-swarm settings (invariant 9): no DHT, LSD, PEX, UPnP or NAT-PMP, no web seeds, TCP only. */
export const privateSwarmOptions = {
  dht: false,
  lsd: false,
  utPex: false,
  natUpnp: false,
  natPmp: false,
  webSeeds: false,
  utp: false,
} as const;

export interface SegmentHandle {
  infoHash: string;
  /** Resolves once every piece of the segment is in the CAS. */
  done: Promise<void>;
  /** Peers connected to this segment right now. */
  peers(): number;
  /** Connects to a peer directly (host:port), beside the ones the tracker gives. */
  addPeer(address: string): void;
}

export interface AddSegmentOptions {
  /** From the manifest; a segment already added is not added twice (a seed fetches what it seeds). */
  infoHash: string;
  torrentFile: Buffer;
  pieceSha256: readonly string[];
  /** The transfer the segment is of: a seed gives a new segment to rack-mates on its others first (superSeeding.ts). */
  transferId?: string;
  /** The seed's last segment of the transfer: the origin has been read to its end, and the seed then serves the tail (superSeeding.ts). */
  lastOfTransfer?: boolean;
  /** Called for each piece downloaded and stored (not for pieces the CAS already held). */
  onPieceStored?: (index: number) => void;
  /** Stores each piece downloaded (checked already) in place of the CAS's chunks/: a download's object builders (objectBuilders.ts). */
  storePiece?: CasChunkStoreOptions['storePiece'];
}

/**
 * How long a wire may leave requests unanswered before webtorrent drops it (its default is 30 s).
 * bench fleet caught a node whose last missing piece had two block requests outstanding on one
 * wire, unanswered for 27 s, while six other peers held the piece: webtorrent reassigns a
 * reserved block only to a wire downloading at 16 KiB/s or more, and at the end of a transfer
 * none is. Why the requests went unanswered is not known yet; this bounds what it costs.
 */
const requestTimeoutMs = 8_000;

/** Peers unchoked per segment: more than a segment ever has (maxConns bounds them far below). */
const maxUploadSlots = 1000;

// A piece failing SHA-1 three times from one peer is not line noise: the peer is lying.
const maxStrikes = 3;

/**
 * Every piece of every engine in the process is assembled in a buffer from here, and goes back
 * once the CAS has written it: webtorrent serves a piece only once it is stored, from the CAS, and
 * the engine's ban bookkeeping never reads a good piece's blocks (peerBans.ts). Buffers of 128 KiB or less
 * are not kept: webtorrent destroys a wire asking for more in one request, so no block it serves
 * from its in-memory copy of a piece being stored can be a whole pooled buffer. At most 32 MiB
 * wait idle (one piece of a 16 GiB artifact): bench pair at 2 GiB in 32 MiB pieces peaked at
 * 288-327 MiB less what was in flight with it, 338 with 64 MiB. torrent-piece's hook is the
 * module's own, so there is one pool per process, whatever the engines.
 */
const pieceBuffers = createBufferPool({ maxIdleBytes: 32 * 1024 * 1024, smallestKept: 128 * 1024 + 1 });
Piece.allocate = pieceBuffers.take;

/** The process's piece buffers: handed out, reused, returned, and bytes idle now. */
export const pieceBufferStats = pieceBuffers.stats;

/**
 * webtorrent over the CAS. Each segment torrent reads and writes chunks by SHA-256 through
 * CasChunkStore; pieces already in the CAS are announced as present (from a bitfield, not
 * re-hashed) and never downloaded again.
 */
export function createTorrentEngine(options: {
  cas: ContentStore;
  logger: Logger;
  torrentPort?: number;
  maxConns?: number;
  downloadLimitBytes?: number | undefined;
  uploadLimitBytes?: number | undefined;
  onPieceFailed?: () => void;
  /** Verified pieces waiting to be written, in bytes, before wires stop reading (default 64 MiB). */
  maxPendingWriteBytes?: number;
  /** Bytes of pieces started and not yet stored, across segments, before no new piece starts (default 256 MiB). */
  maxPiecesInFlightBytes?: number;
  /** Requests a peer may have outstanding with us (BEP 10 reqq; default 128, 2 MiB of blocks). */
  maxPeerRequests?: number;
  /** Offer a segment held whole a few pieces per peer at a time instead of all at once (default true). */
  superSeeding?: boolean;
  /** This node's rack and zone: pieces cross a rack's uplink about once (rackLocality.ts). */
  locality?: Locality;
  /** Bytes of read-ahead windows kept for serving peers (default 32 MiB). */
  readAheadBytes?: number;
}) {
  const client = new WebTorrent({
    ...privateSwarmOptions,
    torrentPort: options.torrentPort ?? 0,
    maxConns: options.maxConns ?? 55,
    downloadLimit: options.downloadLimitBytes ?? -1,
    uploadLimit: options.uploadLimitBytes ?? -1,
    // Dials in plaintext, without BitTorrent protocol encryption (MSE/PE): nearly every peer of
    // this swarm is one of our engines, and the handshake's 768-bit Diffie-Hellman cost about
    // 65 ms of CPU per connection on both ends (bench pair: 1 CPU second per side for 16 segment
    // connections). With the default (secure: 1, plaintext preferred) the payload was plaintext anyway.
    secure: 0,
    // Answers a peer that dials with PE, though (patches/webtorrent+3.0.21.patch): a stock client
    // does by default. Refused, it reached a worker only when the worker dialled it after its
    // next announce, about 30 s per segment. A plaintext handshake costs nothing more.
    secureIncoming: 1,
  });
  const { logger } = options;
  client.on('error', (error: Error) => logger.error({ err: error }, 'torrent engine error'));
  const bans = createPeerBans({ maxStrikes, onBanned: (peerId) => logger.warn({ peerId }, 'peer banned after repeated pieces failing verification') });
  let failedPieces = 0;
  // Shared by every segment: read-ahead of up to 1 MiB per window, 32 MiB in all per engine.
  const readCache = new ChunkReadCache({ maxWindowBytes: 1024 * 1024, maxBytes: options.readAheadBytes ?? 32 * 1024 * 1024 });
  const maxPeerRequests = options.maxPeerRequests ?? 128;
  const pieceBudget = createPieceBudget(options.maxPiecesInFlightBytes ?? 256 * 1024 * 1024);
  const pendingWrites = createWriteBackpressure(options.maxPendingWriteBytes ?? 64 * 1024 * 1024);

  const added = new Map<string, Promise<SegmentHandle>>();
  // Starved: no wire of any segment has a request outstanding (asked only while a segment wants a piece).
  const isStarved = (): boolean => client.torrents.every((torrent) => torrent.wires.every((wire) => wire.requests.length === 0));
  const rackLocality = createRackLocality(options.locality ?? {}, client.peerId, { isStarved });
  // One for all segments held whole: a peer's offers are counted across them (superSeeding.ts).
  const superSeeding = options.superSeeding === false ? undefined : createSuperSeeding({ nearnessOf: rackLocality.nearnessOf });
  const stallCheck = superSeeding === undefined ? undefined : setInterval(() => superSeeding.checkStalls(), 1000).unref();

  function addSegment(segment: AddSegmentOptions): Promise<SegmentHandle> {
    let handle = added.get(segment.infoHash);
    if (handle === undefined) {
      handle = startSegment(segment);
      added.set(segment.infoHash, handle);
      handle.catch(() => added.delete(segment.infoHash));
    }
    return handle;
  }

  async function startSegment(segment: AddSegmentOptions): Promise<SegmentHandle> {
    const bitfield = await verifiedBitfield(options.cas, segment.pieceSha256);
    const complete = segment.pieceSha256.every((_, i) => (bitfield[i >>> 3]! & (0x80 >>> (i & 7))) !== 0);
    const verifier = new PieceVerifier(options.cas, segment.pieceSha256);
    return new Promise((resolve, reject) => {
      const torrent = client.add(segment.torrentFile, {
        store: CasChunkStore,
        storeOpts: {
          cas: options.cas,
          pieceSha256: segment.pieceSha256,
          readCache,
          pendingWrites,
          verifier,
          onStored: (index: number) => segment.onPieceStored?.(index),
          storePiece: segment.storePiece,
          onWritten: pieceBuffers.give,
          // Every wire of this engine copies what it sends into a batch (coalesceWireWrites.ts).
          callbackCopiesReads: true,
        },
        // The manifest's SHA-256 is the check (invariant 7): webtorrent's SHA-1 would hash every piece a second time.
        verifyPiece: (index: number, buf: Uint8Array) => {
          const verified = verifier.verify(index, buf);
          if (verified.ok) return true;
          // Bytes the torrent vouches for (SHA-1) that the manifest does not: the two disagree and no
          // peer can do better, so the segment fails; asking again would ban honest peers one by one.
          if (verified.mismatch !== undefined && sha1Hex(buf) === torrent._hashes?.[index]) torrent._destroy(verified.mismatch);
          return false;
        },
        // A complete segment is seeded as is; a partial one starts from what the CAS holds.
        ...(complete ? { skipVerify: true } : { bitfield }),
        private: true,
        // webtorrent unchokes the 9 peers it downloads from fastest and one more in turn, and
        // chokes the rest: in a fleet every peer is ours, and a choked peer cannot fetch the
        // pieces a seed offered it alone (superSeeding.ts), so no one is choked for upload slots.
        uploads: maxUploadSlots,
        // webtorrent defaults to sequential (for streaming): every leecher then asks the seed for the
        // same next piece, and the seed uploads one copy per peer (measured by bench/fleet: 5.6 F at
        // N=8). Rarest first spreads the pieces so leechers serve each other.
        strategy: 'rarest',
        destroyStoreOnDestroy: false,
        // webtorrent's piece cache keeps 20 whole pieces per torrent (up to 20 x 64 MiB for each of
        // 16 segments); CasChunkStore reads ahead through the engine's bounded readCache instead.
        storeCacheSlots: 0,
      });
      let failDone: (error: Error) => void = () => {};
      const done = new Promise<void>((resolveDone, rejectDone) => {
        failDone = rejectDone;
        if (complete) resolveDone();
        torrent.once('done', () => resolveDone());
      });
      // Marked handled here: a caller that awaits done later still sees the rejection, but a
      // rejection before it does must not take the process down.
      done.catch(() => {});
      const hangUp = (peerIds: readonly string[]) => {
        for (const peerId of peerIds) for (const wire of torrent.wires) if (wire.peerId === peerId) wire.destroy();
      };
      // A segment held whole is offered a few pieces per peer at a time (superSeeding.ts).
      const superSeeder = complete ? superSeeding?.segment(segment.pieceSha256.length, segment.transferId, { lastOfTransfer: segment.lastOfTransfer }) : undefined;
      if (superSeeder !== undefined) torrent.once('close', () => superSeeder.remove());
      // A download tells its peers of each new piece a few at a time (staggeredHaves.ts); a seed offers its own way.
      // Far peers are told at once: each takes from outside its rack only the pieces dealt to it (rackLocality.ts), so they never crowd a holder.
      const haves = complete
        ? undefined
        : staggerHaves(torrent, { tellAtOnce: (wire) => rackLocality.isSuperSeeder(wire) || rackLocality.nearnessOf(wire) === 'far' });
      skipDialsToConnectedPeers(torrent);
      coalesceUpdates(torrent);
      torrent.on('wire', (wire: Wire) => {
        if (bans.isBanned(wire.peerId)) return wire.destroy();
        const duplicate = duplicateToClose(client.peerId, wire, torrent.wires);
        if (duplicate !== undefined) {
          duplicate.destroy();
          if (duplicate === wire) return;
        }
        rackLocality.attach(wire, superSeeder !== undefined);
        superSeeder?.attach(wire);
        haves?.attach(wire);
        // Its started pieces stop counting against the budget: segments held back may start one.
        wire.once('close', () => pieceBudget.wake());
        splitAtMessageEnd(wire);
        holdWhileWritesPending(wire);
        coalesceWireWrites(wire);
        // Sent in the extended handshake, which goes out after this event. webtorrent keeps a
        // second of a wire's download speed in requests, unbounded: over loopback that was up to
        // 195 pieces being assembled at once on the leecher (150 MiB), and as many blocks queued
        // for sending on the seeder. webtorrent, like other clients, honours the peer's reqq.
        wire.extendedHandshake.reqq = maxPeerRequests;
        // BEP 10's listen port: a peer that dialled this one can tell the tracker's address of it is connected already.
        wire.extendedHandshake.p = client.torrentPort;
        // webtorrent set its own 30 s before this event (requestTimeoutMs says why not).
        if (wire.type !== 'webSeed') wire.setTimeout(requestTimeoutMs, true);
        wire.on('piece', (index: number, offset: number, bytes: Uint8Array) => {
          // A block of a piece already held arrived late (endgame, a cancel in flight): not part of any attempt.
          if (torrent.bitfield.get(index)) return;
          const pieceLength = index === torrent.pieces.length - 1 ? torrent.lastPieceLength : torrent.pieceLength;
          // The block as the piece holds it (patches/torrent-piece), when it does: peerBans.ts says why.
          const held = (torrent.pieces[index] as AssemblingPiece | null | undefined)?._buffer?.[offset / blockLength];
          bans.blockReceived(torrent.infoHash, index, { offset, peerId: wire.peerId, bytes, held }, pieceLength);
        });
      });
      torrent.on('verified', (index: number) => {
        pieceBudget.wake();
        const suspects = bans.pieceVerified(torrent.infoHash, index);
        if (suspects.length === 0) return;
        options.cas.readChunk(segment.pieceSha256[index]!).then(
          (piece) => hangUp(bans.blocksLied(suspects, piece)),
          (error: unknown) => logger.warn({ err: error, index }, 'could not re-read a verified piece to find who spoiled it'),
        );
      });
      torrent.on('warning', (warning: Error) => {
        const failed = /^Piece (\d+) failed verification/.exec(warning.message);
        if (failed === null) return logger.debug({ warning: warning.message }, 'torrent warning');
        failedPieces++;
        logger.warn({ infoHash: segment.infoHash, index: Number(failed[1]) }, 'a piece failed verification; it is asked for again');
        pieceBudget.wake();
        options.onPieceFailed?.();
        hangUp(bans.pieceFailed(torrent.infoHash, Number(failed[1])));
      });
      // webtorrent destroys the torrent on any error after ready too (e.g. a put refused by the SHA-256 gate).
      torrent.on('error', (error: Error) => {
        logger.error({ err: error, infoHash: segment.infoHash }, 'segment torrent failed');
        added.delete(segment.infoHash);
        bans.forget(segment.infoHash);
        reject(error);
        failDone(error);
      });
      pieceBudget.track(torrent);
      torrent.once('ready', () => pickStartedPiecesFirst(torrent, pieceBudget));
      if (!complete) torrent.once('ready', () => rackLocality.guardRequests(torrent));
      torrent.once('ready', () => resolve({ infoHash: torrent.infoHash, done, peers: () => torrent.numPeers, addPeer: (address) => void torrent.addPeer(address) }));
    });
  }

  /**
   * The wire's streamx _write parses what the socket delivered and calls back for more; holding
   * that callback while the write budget is spent stops the socket being read (streamx and TCP
   * backpressure), so at most one socket read per wire arrives beyond the budget.
   */
  function holdWhileWritesPending(wire: Wire): void {
    const write = wire._write.bind(wire);
    wire._write = (data, cb) => write(data, (error) => pendingWrites.whenWritable(() => cb(error)));
  }

  return {
    addSegment,
    get port(): number {
      return client.torrentPort;
    },
    failedPieces: (): number => failedPieces,
    /** The read-ahead's window buffers: taken, reused, returned, idle bytes. */
    readAheadStats: () => readCache.stats(),
    peerCount: (): number => client.torrents.reduce((sum, torrent) => sum + torrent.numPeers, 0),
    isBanned: (peerId: string): boolean => bans.isBanned(peerId),
    async removeSegment(infoHash: string): Promise<void> {
      bans.forget(infoHash);
      added.delete(infoHash);
      if ((await client.get(infoHash)) === null) return;
      await new Promise<void>((resolve) => client.remove(infoHash, { destroyStore: false }, () => resolve()));
    },
    /**
     * What a download holds in memory now: pieces being assembled (each its whole length), and
     * verified pieces waiting for the CAS (bounded by maxPendingWriteBytes). For bench pair.
     */
    inFlight: () => {
      const assembling = pieceBudget.inFlight();
      return { assemblingPieces: assembling.pieces, assemblingBytes: assembling.bytes, pendingWriteBytes: pendingWrites.pendingBytes() };
    },
    /** Bytes served to and fetched from peers, since start; of those fetched, how many came from other racks. */
    totals: () => ({
      uploaded: client.torrents.reduce((sum, t) => sum + t.uploaded, 0),
      downloaded: client.torrents.reduce((sum, t) => sum + t.downloaded, 0),
      downloadedFromOtherRacks: rackLocality.bytesFromOtherRacks(),
    }),
    async destroy(): Promise<void> {
      clearInterval(stallCheck);
      await new Promise<void>((resolve) => client.destroy(() => resolve()));
    },
  };
}

/** BitTorrent's block, which torrent-piece (a dependency of webtorrent's, not ours) requests. */
const blockLength = 16 * 1024;

/** What the engine reads of torrent-piece's Piece: the blocks received so far, until it is flushed. */
interface AssemblingPiece {
  _buffer: (Uint8Array | undefined)[] | null;
}

export type TorrentEngine = ReturnType<typeof createTorrentEngine>;
