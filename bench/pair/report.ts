import type { Machine } from '../lib/machine.ts';
import { table } from '../lib/table.ts';
import type { EngineTuning, LeecherMemory, TransferResult, Usage } from './roleProtocol.ts';
import type { PieceLayout } from './seederStore.ts';

/** From the issue: TorrentEdge against the same run's HTTP baseline. */
export const goals = { throughputRatio: 0.5, cpuRatio: 1.5 } as const;

const gib = 2 ** 30;
const mib = 2 ** 20;

/** One transfer: the fetching process's timed call and the serving process's CPU over it. */
export interface PairSide {
  /** Decimal megabytes (10^6 B) per second, fetch start to last byte durable. */
  throughputMBps: number;
  elapsedMs: number;
  /** Both processes' user + system CPU over the transfer. */
  cpuSeconds: number;
  cpuSecondsPerGiB: number;
  fetcher: { userS: number; systemS: number; peakRssMiB: number };
  server: { userS: number; systemS: number; peakRssMiB: number };
  /** Cores kept busy by other processes on the host meanwhile (host busy minus the bench's own). */
  otherLoadCores: number;
  /** The leecher's in-flight data beside its RSS (TorrentEdge only). */
  memory: LeecherMemory | null;
}

export interface PairRound {
  torrentEdge: PairSide;
  baseline: PairSide | null;
  throughputRatio: number | null;
  cpuRatio: number | null;
}

export interface PairReport {
  benchmark: 'pair';
  date: string;
  size: number;
  layout: PieceLayout & { segments: number };
  rounds: PairRound[];
  /** Medians over the rounds (peak RSS: the highest), ratios taken within each round first. */
  throughputMBps: number;
  baselineThroughputMBps: number | null;
  cpuSecondsPerGiB: number;
  baselineCpuSecondsPerGiB: number | null;
  throughputRatio: number | null;
  cpuRatio: number | null;
  /** Peak RSS of the leecher process (getrusage maxrss over its whole life), highest of the rounds. */
  peakRssMiB: number;
  seederPeakRssMiB: number;
  /** Highest of the rounds: blocks of pieces being assembled plus pieces waiting for the CAS. */
  peakInFlightMiB: number;
  peakAssemblingPieces: number;
  /** Highest of the rounds: the leecher's RSS less its in-flight data at the same moment. */
  peakRssLessInFlightMiB: number;
  /** Highest load by other processes seen during a timed transfer, in cores. */
  maxOtherLoadCores: number;
  /** The TorrentEdge children ran under --cpu-prof: their figures include the profiler's overhead. */
  profiled: boolean;
  /** Engine options other than the defaults, and extra node flags, if any were given. */
  engine: EngineTuning;
  nodeArgs: string[];
  goals: typeof goals;
  met: { throughput: boolean; cpu: boolean } | null;
  machine: Machine;
}

const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

export function pairSide(transfer: TransferResult, serverBefore: Usage, serverAfter: Usage, otherLoadCores: number): PairSide {
  const serverUser = (serverAfter.userUs - serverBefore.userUs) / 1e6;
  const serverSystem = (serverAfter.systemUs - serverBefore.systemUs) / 1e6;
  const cpuSeconds = transfer.cpu.userUs / 1e6 + transfer.cpu.systemUs / 1e6 + serverUser + serverSystem;
  return {
    throughputMBps: round(transfer.bytes / 1e6 / (transfer.elapsedMs / 1000), 1),
    elapsedMs: round(transfer.elapsedMs, 0),
    cpuSeconds: round(cpuSeconds, 2),
    cpuSecondsPerGiB: round(cpuSeconds / (transfer.bytes / gib), 2),
    fetcher: { userS: round(transfer.cpu.userUs / 1e6), systemS: round(transfer.cpu.systemUs / 1e6), peakRssMiB: round(transfer.maxRssKiB / 1024, 0) },
    server: { userS: round(serverUser), systemS: round(serverSystem), peakRssMiB: round(serverAfter.maxRssKiB / 1024, 0) },
    otherLoadCores: round(otherLoadCores),
    memory: transfer.memory ?? null,
  };
}

export function pairRound(torrentEdge: PairSide, baseline: PairSide | null): PairRound {
  return {
    torrentEdge,
    baseline,
    throughputRatio: baseline === null ? null : round(torrentEdge.throughputMBps / baseline.throughputMBps, 3),
    cpuRatio: baseline === null ? null : round(torrentEdge.cpuSecondsPerGiB / baseline.cpuSecondsPerGiB, 3),
  };
}

function median(values: readonly number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const medianOf = (values: readonly (number | null)[]): number | null =>
  values.some((value) => value === null) ? null : median(values as number[]);

export function buildReport(input: {
  size: number;
  layout: PieceLayout;
  segments: number;
  rounds: PairRound[];
  profiled: boolean;
  engine: EngineTuning;
  nodeArgs: string[];
  machine: Machine;
}): PairReport {
  const { rounds } = input;
  const throughputRatio = medianOf(rounds.map((r) => r.throughputRatio));
  const cpuRatio = medianOf(rounds.map((r) => r.cpuRatio));
  const baselineThroughput = medianOf(rounds.map((r) => r.baseline?.throughputMBps ?? null));
  const baselineCpu = medianOf(rounds.map((r) => r.baseline?.cpuSecondsPerGiB ?? null));
  const sides = rounds.flatMap((r) => (r.baseline === null ? [r.torrentEdge] : [r.torrentEdge, r.baseline]));
  return {
    benchmark: 'pair',
    date: new Date().toISOString(),
    size: input.size,
    layout: { ...input.layout, segments: input.segments },
    rounds,
    throughputMBps: round(median(rounds.map((r) => r.torrentEdge.throughputMBps)), 1),
    baselineThroughputMBps: baselineThroughput === null ? null : round(baselineThroughput, 1),
    cpuSecondsPerGiB: round(median(rounds.map((r) => r.torrentEdge.cpuSecondsPerGiB))),
    baselineCpuSecondsPerGiB: baselineCpu === null ? null : round(baselineCpu),
    throughputRatio: throughputRatio === null ? null : round(throughputRatio, 3),
    cpuRatio: cpuRatio === null ? null : round(cpuRatio, 3),
    peakRssMiB: Math.max(...rounds.map((r) => r.torrentEdge.fetcher.peakRssMiB)),
    seederPeakRssMiB: Math.max(...rounds.map((r) => r.torrentEdge.server.peakRssMiB)),
    peakInFlightMiB: Math.max(...rounds.map((r) => r.torrentEdge.memory?.peakInFlightMiB ?? 0)),
    peakAssemblingPieces: Math.max(...rounds.map((r) => r.torrentEdge.memory?.peakAssemblingPieces ?? 0)),
    peakRssLessInFlightMiB: Math.max(...rounds.map((r) => r.torrentEdge.memory?.peakRssLessInFlightMiB ?? 0)),
    maxOtherLoadCores: Math.max(...sides.map((side) => side.otherLoadCores)),
    profiled: input.profiled,
    engine: input.engine,
    nodeArgs: input.nodeArgs,
    goals,
    met: throughputRatio === null || cpuRatio === null ? null : { throughput: throughputRatio >= goals.throughputRatio, cpu: cpuRatio <= goals.cpuRatio },
    machine: input.machine,
  };
}

const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');
const sizeText = (bytes: number): string => (bytes >= gib ? `${(bytes / gib).toFixed(2)} GiB` : `${(bytes / mib).toFixed(1)} MiB`);

function row(name: string, side: PairSide, ratios: [string, string]): string[] {
  return [
    name,
    side.throughputMBps.toFixed(1),
    ratios[0],
    side.cpuSecondsPerGiB.toFixed(2),
    ratios[1],
    `${side.fetcher.userS.toFixed(2)}+${side.fetcher.systemS.toFixed(2)}`,
    `${side.server.userS.toFixed(2)}+${side.server.systemS.toFixed(2)}`,
    String(side.fetcher.peakRssMiB),
    String(side.server.peakRssMiB),
    side.otherLoadCores.toFixed(2),
  ];
}

export function formatReport(report: PairReport): string {
  const { machine, layout } = report;
  const rows = [['round', 'MB/s', 'x base', 'CPU s/GiB', 'x base', 'fetch usr+sys s', 'serve usr+sys s', 'fetch RSS MiB', 'serve RSS MiB', 'other load']];
  report.rounds.forEach((r, index) => {
    rows.push(row(`${index + 1} TorrentEdge (leecher <- seeder)`, r.torrentEdge, [r.throughputRatio?.toFixed(3) ?? '-', r.cpuRatio?.toFixed(3) ?? '-']));
    if (r.baseline !== null) rows.push(row(`${index + 1} baseline HTTP + SHA-256 + write`, r.baseline, ['1.000', '1.000']));
  });
  const summary =
    report.met === null
      ? `median ${report.throughputMBps} MB/s, ${report.cpuSecondsPerGiB} CPU s/GiB (no baseline: ratios not measured)`
      : `median of rounds: ${report.throughputMBps} MB/s vs ${report.baselineThroughputMBps} (x${report.throughputRatio?.toFixed(3)}), ` +
        `${report.cpuSecondsPerGiB} vs ${report.baselineCpuSecondsPerGiB} CPU s/GiB (x${report.cpuRatio?.toFixed(3)})`;
  return [
    `pair: ${sizeText(report.size)} in ${layout.pieceCount} pieces of ${sizeText(layout.pieceLength)}, ` +
      `${layout.segments} segments of up to ${layout.segmentPieces} pieces; each side two child processes, loopback, unshaped` +
      (report.profiled ? ' (TorrentEdge children under --cpu-prof)' : '') +
      (Object.keys(report.engine).length > 0 ? `; engine ${JSON.stringify(report.engine)}` : '') +
      (report.nodeArgs.length > 0 ? `; node ${report.nodeArgs.join(' ')}` : ''),
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; ${machine.os}; Node ${machine.node}`,
    '',
    table(rows),
    '(CPU: user + system of both processes over the transfer; RSS: peak of each process; other load: cores busy with other processes meanwhile)',
    '',
    summary,
    `leecher peak RSS ${report.peakRssMiB} MiB (${report.rounds[0]?.torrentEdge.memory?.startRssMiB ?? '?'} MiB at the start; in flight at most ${report.peakInFlightMiB} MiB, ${report.peakAssemblingPieces} pieces being assembled; ` +
      `RSS less in-flight at most ${report.peakRssLessInFlightMiB} MiB), seeder ${report.seederPeakRssMiB} MiB` +
      (report.maxOtherLoadCores > 0.2 ? `; WARNING: other processes kept up to ${report.maxOtherLoadCores} cores busy during a transfer` : ''),
    report.met === null
      ? ''
      : `goals: throughput >= ${goals.throughputRatio} x baseline ${verdict(report.met.throughput)}, CPU per GiB <= ${goals.cpuRatio} x baseline ${verdict(report.met.cpu)}`,
  ].join('\n');
}
