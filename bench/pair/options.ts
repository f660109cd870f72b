import { parseArgs } from 'node:util';
import { tmpdir } from 'node:os';
import { positive } from '../lib/positiveOption.ts';
import type { EngineTuning } from './roleProtocol.ts';

export interface PairBenchOptions {
  /** Artifact bytes. */
  size: number;
  /** A piece length forced on the layout (a power of two), to see a big artifact's pieces at a small size. */
  pieceLength: number | undefined;
  /** Where the artifact, the two stores and the baseline's output go (a fresh folder below it). */
  dir: string;
  /** When set, both TorrentEdge children run with --cpu-prof and write their profiles here. */
  cpuProfDir: string | undefined;
  /** createTorrentEngine options for both TorrentEdge children; the defaults when empty. */
  engine: EngineTuning;
  /** Extra node flags for the TorrentEdge children (e.g. --trace-gc), for experiments. */
  nodeArgs: string[];
  /** Rounds of (baseline, TorrentEdge) transfers; the report gives medians. */
  rounds: number;
  /** A transfer during which other processes kept more cores than this busy is measured again. */
  maxOtherLoad: number;
  /** Skip the HTTP baseline (e.g. for an RSS-versus-size run); ratios are then not reported. */
  baseline: boolean;
  json: boolean;
  help: boolean;
}

export const usage = `usage: npm run bench -- pair [options]

One seeder and one leecher, each a child process on this machine, unshaped over loopback:
the seeder serves a pre-filled ContentStore through createTorrentEngine, the leecher fetches
every segment into its own ContentStore. Measured against a baseline in the same run: one
process streaming the file over plain HTTP to another that hashes it with SHA-256 and writes it.

options:
  --size N        artifact size, bytes or with a unit: 512MiB, 1GiB, 4GiB (default 1GiB)
  --piece-length N
                  force this piece length (a power of two from 16KiB to 64MiB) instead of the
                  one the artifact's size gives: e.g. 16 GiB's 32MiB pieces at --size 2GiB
  --dir PATH      scratch folder for the data (default the OS temp folder); needs three times
                  the size free (twice with --no-baseline); everything written there is removed at the end
  --rounds N      rounds of one baseline and one TorrentEdge transfer each, fresh processes
                  every time; the report gives medians (default 3)
  --max-other-load C
                  cores other processes may keep busy: each transfer waits (up to 120 s)
                  for a quiet host, and one disturbed by more is measured again, at most
                  three times in all (default 0.2)
  --cpu-prof DIR  run the TorrentEdge children with node --cpu-prof, profiles into DIR
  --engine K=V    a createTorrentEngine option for both TorrentEdge children, to measure a
                  setting: maxPeerRequests=N, maxPendingWriteBytes=SIZE,
                  maxPiecesInFlightBytes=SIZE (repeatable)
  --node-arg ARG  an extra node flag for the TorrentEdge children, e.g. --node-arg=--trace-gc
                  (repeatable; for experiments)
  --no-baseline   measure only TorrentEdge (no ratios)
  --json          print one JSON object instead of the table
  --help          this text`;

const units: Record<string, number> = { '': 1, b: 1, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, kb: 1e3, mb: 1e6, gb: 1e9 };

/** "4GiB", "512MiB", "1073741824": a positive whole number of bytes. */
export function parseSize(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = match === null ? undefined : units[match[2]!.toLowerCase()];
  const bytes = match === null || unit === undefined ? Number.NaN : Math.round(Number(match[1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new Error(`--size must be a positive size such as 1GiB or 512MiB, not "${value}"`);
  return bytes;
}

/** Throws on an unknown flag or a bad value; the caller prints usage. */
export function parseOptions(args: string[], _env: NodeJS.ProcessEnv): PairBenchOptions {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      size: { type: 'string', default: '1GiB' },
      'piece-length': { type: 'string' },
      dir: { type: 'string' },
      rounds: { type: 'string' },
      'max-other-load': { type: 'string' },
      'cpu-prof': { type: 'string' },
      'node-arg': { type: 'string', multiple: true, default: [] },
      engine: { type: 'string', multiple: true, default: [] },
      'no-baseline': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  return {
    size: parseSize(values.size),
    pieceLength: values['piece-length'] === undefined ? undefined : parsePieceLength(values['piece-length']),
    dir: values.dir ?? tmpdir(),
    rounds: positive('rounds', values.rounds, 3, true),
    maxOtherLoad: positive('max-other-load', values['max-other-load'], 0.2, false),
    cpuProfDir: values['cpu-prof'],
    nodeArgs: values['node-arg'],
    engine: parseEngineTuning(values.engine),
    baseline: !values['no-baseline'],
    json: values.json,
    help: values.help,
  };
}

function parsePieceLength(value: string): number {
  const bytes = parseSize(value);
  if ((bytes & (bytes - 1)) !== 0 || bytes < 16 * 1024 || bytes > 64 * 1024 * 1024) throw new Error(`--piece-length must be a power of two from 16KiB to 64MiB, not "${value}"`);
  return bytes;
}

function parseEngineTuning(settings: readonly string[]): EngineTuning {
  const tuning: EngineTuning = {};
  for (const setting of settings) {
    const [key, value = ''] = setting.split('=', 2) as [string, string?];
    if (key === 'maxPeerRequests') tuning.maxPeerRequests = positive('engine maxPeerRequests', value, 0, true);
    else if (key === 'maxPendingWriteBytes') tuning.maxPendingWriteBytes = parseSize(value);
    else if (key === 'maxPiecesInFlightBytes') tuning.maxPiecesInFlightBytes = parseSize(value);
    else throw new Error(`--engine takes maxPeerRequests=N, maxPendingWriteBytes=SIZE or maxPiecesInFlightBytes=SIZE, not "${setting}"`);
  }
  return tuning;
}
