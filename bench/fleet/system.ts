import type { CleanupStack } from '../lib/benchMain.ts';
import type { FleetNetwork } from './network.ts';

export interface FleetArtifact {
  path: string;
  name: string;
  bytes: number;
  sha256: string;
}

/** What every system is given: the same network, artifact and HTTP origin. */
export interface FleetContext {
  network: FleetNetwork;
  artifact: FleetArtifact;
  /** The HTTP origin running in the origin's namespace (torrentedge and direct read from it). */
  origin: { url: string; pid: number; servedBytes(): Promise<number> };
  /** This system's scratch folder (removed after the system ran). */
  workDir: string;
  /** The PostgreSQL server for TorrentEdge's control plane (a database per run); undefined for the embedded PGlite. */
  databaseServerUrl: string | undefined;
  /** Extra node flags for each TorrentEdge worker. */
  workerNodeArgs: readonly string[];
  log: (message: string) => void;
}

/** A system with its seeders, trackers and node processes up, ready for the clock to start. */
export interface PreparedSystem {
  /** Per node, the pid whose process tree does that node's work (sampled for CPU and RSS). */
  rootPids(): number[];
  /** The origin host's own processes for this system (a seeding client), beside the HTTP origin. */
  originPids(): number[];
  /**
   * Runs the distribution. Resolves with each node's completion time in seconds from the call
   * (undefined for a node unfinished at `deadline`, a performance.now() instant).
   */
  distribute(deadline: number, signal: AbortSignal): Promise<Array<number | undefined>>;
  /** Payload bytes the origin host has sent so far (the runner takes the difference). */
  originPayloadBytes(): Promise<number>;
  /** Where node `index`'s copy of the artifact ends up. */
  nodeFile(index: number): string;
}

export interface FleetSystem {
  /** Starts everything that runs before the clock; every process and folder goes on `cleanup`. */
  prepare(context: FleetContext, cleanup: CleanupStack): Promise<PreparedSystem>;
}

/** Resolves after `ms`, or at once when `signal` aborts (the caller then checks the signal). */
export const pause = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
