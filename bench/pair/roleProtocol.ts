/**
 * The calls the bench makes into its child processes, over Node's IPC channel. Each role is a
 * map of call name to payload and result; every role also answers `usage` and `stop`.
 */

/** A process's own CPU time (process.cpuUsage()) and its peak RSS so far (getrusage maxrss). */
export interface Usage {
  userUs: number;
  systemUs: number;
  maxRssKiB: number;
}

export interface RoleCall<P = unknown, R = unknown> {
  payload: P;
  result: R;
}

export type CommonCalls = {
  usage: RoleCall<null, Usage>;
  /** Closes what the role opened; the result is the usage at that point; the process then exits. */
  stop: RoleCall<null, Usage>;
};

export type RoleCalls = CommonCalls & Record<string, RoleCall>;

/** One segment as the manifest would carry it; the torrent file is base64 to cross IPC as JSON. */
export interface SegmentSpec {
  infoHash: string;
  torrentFile: string;
  pieceSha256: string[];
}

/** What one side of a transfer reports for the timed part: from the start call to the last byte. */
export interface TransferResult {
  elapsedMs: number;
  /** CPU spent by this process during the transfer. */
  cpu: { userUs: number; systemUs: number };
  maxRssKiB: number;
  bytes: number;
  /** The leecher's memory, sampled every 50 ms during the transfer. */
  memory?: LeecherMemory;
}

export interface LeecherMemory {
  /** RSS when the fetch started: the process with its modules loaded and the engine created. */
  startRssMiB: number;
  /** Blocks of pieces being assembled plus verified pieces waiting for the CAS (engine.inFlight()). */
  peakInFlightMiB: number;
  peakAssemblingPieces: number;
  /** The highest RSS less what was in flight at that moment: the process's own footprint. */
  peakRssLessInFlightMiB: number;
  /** At that moment: what was in flight, V8's heap in use, ArrayBuffers (in flight included), idle piece buffers kept for reuse. */
  atPeak: { inFlightMiB: number; heapUsedMiB: number; arrayBuffersMiB: number; idlePieceBuffersMiB: number };
}

/** createTorrentEngine's tuning options, set from the command line for experiments (--engine). */
export interface EngineTuning {
  maxPeerRequests?: number;
  maxPendingWriteBytes?: number;
  maxPiecesInFlightBytes?: number;
}

export type SeederCalls = CommonCalls & {
  setup: RoleCall<{ casRoot: string; segments: SegmentSpec[]; engine: EngineTuning }, { port: number }>;
};

export type LeecherCalls = CommonCalls & {
  setup: RoleCall<{ casRoot: string; segments: SegmentSpec[]; engine: EngineTuning }, null>;
  fetch: RoleCall<{ peer: string }, TransferResult>;
};

export type HttpServerCalls = CommonCalls & {
  setup: RoleCall<{ path: string }, { port: number }>;
};

export type HttpClientCalls = CommonCalls & {
  fetch: RoleCall<{ url: string; outPath: string }, TransferResult & { sha256: string }>;
};

export interface RoleRequest {
  id: number;
  type: string;
  payload: unknown;
}

export type RoleReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
