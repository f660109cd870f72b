import type { ClosedLoopResult } from '../lib/closedLoop.ts';
import { summarizeLatencies } from '../lib/latency.ts';
import type { Machine } from '../lib/machine.ts';

export const goals = { commandsPerSecond: 2000, p99Ms: 50, projectionLagP99Ms: 500 } as const;

export type PhaseName = 'create' | 'lifecycle' | 'chunkProgress';

export interface PhaseFigures {
  commandsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  count: number;
  ratioToBaseline: number;
}

export interface ControlPlaneReport {
  benchmark: 'control-plane';
  date: string;
  commandsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  projectionLagP50Ms: number;
  projectionLagP99Ms: number;
  projectionLagSamples: number;
  /** p99 bucket bound of torrentedge_projection_lag_seconds (event recorded_at to projection commit), a cross-check. */
  projectionLagMetricP99Ms: number;
  /** After the last command: until every projection reached the log head. */
  catchUpMs: number;
  baselineOpsPerSecond: number;
  baselineP50Ms: number;
  baselineP99Ms: number;
  ratioToBaseline: number;
  phases: Record<PhaseName, PhaseFigures>;
  goals: typeof goals;
  met: boolean;
  concurrency: number;
  seconds: number;
  poolSize: number;
  machine: Machine & { postgres: string };
}

const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

export function buildReport(input: {
  phases: Record<PhaseName, ClosedLoopResult>;
  baseline: ClosedLoopResult;
  lagSamplesMs: readonly number[];
  lagMetricP99Ms: number;
  catchUpMs: number;
  concurrency: number;
  seconds: number;
  poolSize: number;
  machine: Machine & { postgres: string };
}): ControlPlaneReport {
  const baselineLatency = summarizeLatencies(input.baseline.latenciesMs);
  const baselineOps = input.baseline.opsPerSecond;
  const figuresOf = (result: ClosedLoopResult): PhaseFigures => {
    const latency = summarizeLatencies(result.latenciesMs);
    return {
      commandsPerSecond: round(result.opsPerSecond, 1),
      p50Ms: round(latency.p50Ms),
      p99Ms: round(latency.p99Ms),
      maxMs: round(latency.maxMs),
      count: result.count,
      ratioToBaseline: round(result.opsPerSecond / baselineOps, 3),
    };
  };
  const all = Object.values(input.phases);
  const count = all.reduce((sum, phase) => sum + phase.count, 0);
  const elapsedMs = all.reduce((sum, phase) => sum + phase.elapsedMs, 0);
  const overallRate = count / (elapsedMs / 1000);
  const overall = summarizeLatencies(all.flatMap((phase) => phase.latenciesMs));
  const lag = summarizeLatencies(input.lagSamplesMs);
  const report = {
    benchmark: 'control-plane' as const,
    date: new Date().toISOString(),
    commandsPerSecond: round(overallRate, 1),
    p50Ms: round(overall.p50Ms),
    p99Ms: round(overall.p99Ms),
    projectionLagP50Ms: round(lag.p50Ms),
    projectionLagP99Ms: round(lag.p99Ms),
    projectionLagSamples: lag.count,
    projectionLagMetricP99Ms: round(input.lagMetricP99Ms),
    catchUpMs: round(input.catchUpMs),
    baselineOpsPerSecond: round(baselineOps, 1),
    baselineP50Ms: round(baselineLatency.p50Ms),
    baselineP99Ms: round(baselineLatency.p99Ms),
    ratioToBaseline: round(overallRate / baselineOps, 3),
    phases: {
      create: figuresOf(input.phases.create),
      lifecycle: figuresOf(input.phases.lifecycle),
      chunkProgress: figuresOf(input.phases.chunkProgress),
    },
    goals,
    concurrency: input.concurrency,
    seconds: input.seconds,
    poolSize: input.poolSize,
    machine: input.machine,
  };
  const met =
    report.commandsPerSecond >= goals.commandsPerSecond &&
    report.p99Ms <= goals.p99Ms &&
    report.projectionLagP99Ms <= goals.projectionLagP99Ms;
  return { ...report, met };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ')).join('\n');
}

const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');

export function formatReport(report: ControlPlaneReport): string {
  const row = (name: string, figures: { count: number; commandsPerSecond: number; p50Ms: number; p99Ms: number; ratioToBaseline: number }) => [
    name,
    String(figures.count),
    figures.commandsPerSecond.toFixed(0),
    figures.p50Ms.toFixed(2),
    figures.p99Ms.toFixed(2),
    figures.ratioToBaseline.toFixed(3),
  ];
  const overallCount = Object.values(report.phases).reduce((sum, phase) => sum + phase.count, 0);
  const { machine } = report;
  return [
    `control plane: ${report.concurrency} clients, ${report.seconds} s per phase, pool of ${report.poolSize}`,
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; PostgreSQL ${machine.postgres}; Node ${machine.node}`,
    '',
    table([
      ['phase', 'commands', 'cmd/s', 'p50 ms', 'p99 ms', 'x baseline'],
      row('create', report.phases.create),
      row('lifecycle', report.phases.lifecycle),
      row('chunkProgress', report.phases.chunkProgress),
      row('overall', { ...report, count: overallCount }),
      [
        'baseline INSERT',
        '',
        report.baselineOpsPerSecond.toFixed(0),
        report.baselineP50Ms.toFixed(2),
        report.baselineP99Ms.toFixed(2),
        '1.000',
      ],
    ]),
    '',
    `projection lag (append resolved -> visible in read model, ${report.projectionLagSamples} samples): ` +
      `p50 ${report.projectionLagP50Ms.toFixed(1)} ms, p99 ${report.projectionLagP99Ms.toFixed(1)} ms` +
      ` (metric p99 <= ${report.projectionLagMetricP99Ms.toFixed(0)} ms; catch-up after the last command ${report.catchUpMs.toFixed(0)} ms)`,
    '',
    `goals: ${report.goals.commandsPerSecond} cmd/s ${verdict(report.commandsPerSecond >= report.goals.commandsPerSecond)}, ` +
      `p99 <= ${report.goals.p99Ms} ms ${verdict(report.p99Ms <= report.goals.p99Ms)}, ` +
      `projection lag p99 <= ${report.goals.projectionLagP99Ms} ms ${verdict(report.projectionLagP99Ms <= report.goals.projectionLagP99Ms)}`,
  ].join('\n');
}
