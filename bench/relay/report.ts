import type { RelayBenchOptions } from './options.ts';
import { summarizeLatencies } from '../lib/latency.ts';
import type { CpuUse } from '../lib/cpuMeter.ts';
import type { Machine } from '../lib/machine.ts';
import { table } from '../lib/table.ts';
import type { LatencyResult } from './latency.ts';
import type { BaselineThroughput, RelayThroughput } from './throughput.ts';

export const goals = { eventsPerSecond: 20_000, p99LatencyMs: 100 } as const;

export type RelayMachine = Machine & { postgres: string; kafka: { brokers: string[]; startedByBench: boolean } };

/** The run's settings come from its options; everything else is measured. */
export interface RelayReport extends Pick<RelayBenchOptions, 'events' | 'rate' | 'seconds' | 'batchSize' | 'partitions' | 'wakeUp'> {
  benchmark: 'relay';
  date: string;
  /** Throughput phase: events published by the relay per second, from the log start. */
  eventsPerSecond: number;
  relayElapsedMs: number;
  relayBatches: number;
  /** The same messages sent straight with bus.publish, same batch size, fresh topic. */
  baselineEventsPerSecond: number;
  baselineElapsedMs: number;
  ratioToBaseline: number;
  /**
   * Summed wall time of the relay's awaited steps; `other` is the elapsed time less the sum. The
   * relay overlaps readAll and checkpoint with publish, so `other` can be negative; the elapsed
   * time less publish is what runs outside a send (eventMessage, waiting for a read).
   */
  relayStagesMs: { readAll: number; publish: number; checkpoint: number; other: number };
  /** eventMessage over every event (headers + JSON.stringify), measured apart from the baseline. */
  buildMessagesMs: number;
  /** CPU per phase: host busy share of all cores, and the bench process (relay, producer, appends, consumer) in % of one core. */
  cpu: { relay: CpuUse; baseline: CpuUse; latency: CpuUse };
  /** Warnings the relay logged (a batch the broker did not acknowledge, retried). */
  relayWarnings: number;
  /** Latency phase: append resolved → consumed by a consumer group. */
  p50LatencyMs: number;
  p99LatencyMs: number;
  maxLatencyMs: number;
  latencySamples: number;
  /** Append resolved → the relay's send holding it acknowledged by the broker. */
  appendToAckedP50Ms: number;
  appendToAckedP99Ms: number;
  /** Acknowledged → consumed by the group. */
  ackedToConsumeP50Ms: number;
  ackedToConsumeP99Ms: number;
  /** Append issued → resolved, for context. */
  appendP50Ms: number;
  appendP99Ms: number;
  achievedRate: number;
  maxScheduleSlipMs: number;
  duplicatesConsumed: number;
  messageValueBytes: number;
  messageHeaderBytes: number;
  goals: typeof goals;
  met: boolean;
  machine: RelayMachine;
}

const round = (value: number, digits = 2): number => Number(value.toFixed(digits));
const roundCpu = (cpu: CpuUse): CpuUse => ({ hostBusyPercent: round(cpu.hostBusyPercent, 0), processPercent: round(cpu.processPercent, 0) });

export function buildReport(input: {
  relay: RelayThroughput;
  baseline: BaselineThroughput;
  latency: LatencyResult;
  relayWarnings: number;
  options: { events: number; rate: number; seconds: number; batchSize: number; partitions: number; wakeUp: 'in-process' | 'notify' };
  machine: RelayMachine;
}): RelayReport {
  const { relay, baseline, latency, options } = input;
  const endToEnd = summarizeLatencies(latency.appendToConsumeMs);
  const toAcked = summarizeLatencies(latency.appendToAckedMs);
  const ackedToConsume = summarizeLatencies(latency.ackedToConsumeMs);
  const append = summarizeLatencies(latency.appendMs);
  const staged = relay.stagesMs.readAll + relay.stagesMs.publish + relay.stagesMs.checkpoint;
  const report = {
    benchmark: 'relay' as const,
    date: new Date().toISOString(),
    eventsPerSecond: round(relay.eventsPerSecond, 0),
    relayElapsedMs: round(relay.elapsedMs, 0),
    relayBatches: relay.batches,
    baselineEventsPerSecond: round(baseline.eventsPerSecond, 0),
    baselineElapsedMs: round(baseline.elapsedMs, 0),
    ratioToBaseline: round(relay.eventsPerSecond / baseline.eventsPerSecond, 3),
    relayStagesMs: {
      readAll: round(relay.stagesMs.readAll, 0),
      publish: round(relay.stagesMs.publish, 0),
      checkpoint: round(relay.stagesMs.checkpoint, 0),
      other: round(relay.elapsedMs - staged, 0),
    },
    buildMessagesMs: round(baseline.buildMessagesMs, 0),
    cpu: { relay: roundCpu(relay.cpu), baseline: roundCpu(baseline.cpu), latency: roundCpu(latency.cpu) },
    relayWarnings: input.relayWarnings,
    p50LatencyMs: round(endToEnd.p50Ms),
    p99LatencyMs: round(endToEnd.p99Ms),
    maxLatencyMs: round(endToEnd.maxMs),
    latencySamples: endToEnd.count,
    appendToAckedP50Ms: round(toAcked.p50Ms),
    appendToAckedP99Ms: round(toAcked.p99Ms),
    ackedToConsumeP50Ms: round(ackedToConsume.p50Ms),
    ackedToConsumeP99Ms: round(ackedToConsume.p99Ms),
    appendP50Ms: round(append.p50Ms),
    appendP99Ms: round(append.p99Ms),
    achievedRate: round(latency.loop.achievedRate, 1),
    maxScheduleSlipMs: round(latency.loop.maxSlipMs),
    duplicatesConsumed: latency.duplicates,
    events: options.events,
    rate: options.rate,
    seconds: options.seconds,
    batchSize: options.batchSize,
    partitions: options.partitions,
    wakeUp: options.wakeUp,
    messageValueBytes: round(baseline.valueBytes, 0),
    messageHeaderBytes: round(baseline.headerBytes, 0),
    goals,
    machine: input.machine,
  };
  const met = report.eventsPerSecond >= goals.eventsPerSecond && report.p99LatencyMs <= goals.p99LatencyMs;
  return { ...report, met };
}

const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');
const ms = (value: number): string => value.toFixed(1);

export function formatReport(report: RelayReport): string {
  const { machine, relayStagesMs: stages } = report;
  const share = (value: number) => `${((100 * value) / report.relayElapsedMs).toFixed(0)}%`;
  return [
    `relay: ${report.events} events pre-appended, batch ${report.batchSize}, ${report.partitions} partitions; ` +
      `latency at ${report.rate} appends/s for ${report.seconds} s (relay woken ${report.wakeUp})`,
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; PostgreSQL ${machine.postgres}; ` +
      `Kafka ${machine.kafka.brokers.join(',')}${machine.kafka.startedByBench ? ' (dev broker started by the bench)' : ''}; Node ${machine.node}`,
    `messages: ${report.messageValueBytes} B value + ${report.messageHeaderBytes} B headers on average`,
    '',
    table([
      ['throughput', 'events', 'elapsed ms', 'events/s', 'x baseline', 'host CPU', 'bench CPU'],
      [
        'relay (log -> Kafka)',
        String(report.events),
        report.relayElapsedMs.toFixed(0),
        report.eventsPerSecond.toFixed(0),
        report.ratioToBaseline.toFixed(3),
        `${report.cpu.relay.hostBusyPercent}%`,
        `${report.cpu.relay.processPercent}%`,
      ],
      [
        'baseline bus.publish',
        String(report.events),
        report.baselineElapsedMs.toFixed(0),
        report.baselineEventsPerSecond.toFixed(0),
        '1.000',
        `${report.cpu.baseline.hostBusyPercent}%`,
        `${report.cpu.baseline.processPercent}%`,
      ],
    ]),
    '(host CPU: busy share of all cores; bench CPU: this process, % of one core)',
    '',
    `relay time by step (${report.relayBatches} batches; readAll and checkpoint overlap publish): readAll ${stages.readAll} ms (${share(stages.readAll)}), ` +
      `publish ${stages.publish} ms (${share(stages.publish)}), checkpoint ${stages.checkpoint} ms (${share(stages.checkpoint)}), ` +
      `other ${stages.other} ms (${share(stages.other)}); eventMessage for all events alone: ${report.buildMessagesMs} ms`,
    '',
    table([
      ['latency', 'p50 ms', 'p99 ms'],
      ['append resolved -> consumed', ms(report.p50LatencyMs), ms(report.p99LatencyMs)],
      ['  append resolved -> relay send acked', ms(report.appendToAckedP50Ms), ms(report.appendToAckedP99Ms)],
      ['  relay send acked -> consumed', ms(report.ackedToConsumeP50Ms), ms(report.ackedToConsumeP99Ms)],
      ['append (issued -> resolved)', ms(report.appendP50Ms), ms(report.appendP99Ms)],
    ]),
    `${report.latencySamples} events at ${report.achievedRate.toFixed(0)}/s achieved (max schedule slip ${ms(report.maxScheduleSlipMs)} ms), ` +
      `max ${ms(report.maxLatencyMs)} ms, ${report.duplicatesConsumed} duplicates; ` +
      `host CPU ${report.cpu.latency.hostBusyPercent}%, bench CPU ${report.cpu.latency.processPercent}%` +
      (report.relayWarnings > 0 ? `; the relay logged ${report.relayWarnings} warnings` : ''),
    '',
    `goals: ${report.goals.eventsPerSecond} events/s ${verdict(report.eventsPerSecond >= report.goals.eventsPerSecond)}, ` +
      `p99 <= ${report.goals.p99LatencyMs} ms at ${report.rate}/s ${verdict(report.p99LatencyMs <= report.goals.p99LatencyMs)}`,
  ].join('\n');
}
