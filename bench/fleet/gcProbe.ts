/**
 * Counts a process's garbage collections, for bench fleet's workers. As a preload
 * (`--node-arg=--import=<abs path>/bench/fleet/gcProbe.ts`, with GC_PROBE_DIR set), each process
 * writes its counts and pause time by kind, and its CPU, to GC_PROBE_DIR/<pid>.json every second.
 * Run as a script (`node bench/fleet/gcProbe.ts DIR`), it prints the mean per process of those files.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PerformanceObserver, constants, type NodeGCPerformanceDetail, type PerformanceEntry } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

interface ProbeFile {
  gc: Record<string, { count: number; ms: number }>;
  userSeconds: number;
  systemSeconds: number;
}

const kinds: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'full',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental marking',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks',
};

function probe(dir: string): void {
  const counts: ProbeFile['gc'] = {};
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = kinds[(entry as PerformanceEntry & { detail: NodeGCPerformanceDetail }).detail.kind] ?? 'other';
      const count = (counts[kind] ??= { count: 0, ms: 0 });
      count.count++;
      count.ms += entry.duration;
    }
  }).observe({ entryTypes: ['gc'] });
  setInterval(() => {
    const usage = process.resourceUsage();
    const file: ProbeFile = { gc: counts, userSeconds: usage.userCPUTime / 1e6, systemSeconds: usage.systemCPUTime / 1e6 };
    writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify(file));
  }, 1000).unref();
}

function summarize(dir: string): void {
  const files = readdirSync(dir).filter((name) => name.endsWith('.json')).map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as ProbeFile);
  const mean = (value: (file: ProbeFile) => number): string => (files.reduce((sum, file) => sum + value(file), 0) / Math.max(1, files.length)).toFixed(1);
  console.log(`${files.length} processes; per process: user ${mean((file) => file.userSeconds)} s, system ${mean((file) => file.systemSeconds)} s`);
  for (const kind of new Set(files.flatMap((file) => Object.keys(file.gc)))) {
    console.log(`  ${kind}: ${mean((file) => file.gc[kind]?.count ?? 0)} collections, ${mean((file) => file.gc[kind]?.ms ?? 0)} ms`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (dir === undefined) throw new Error('usage: node bench/fleet/gcProbe.ts DIR');
  summarize(dir);
} else if (process.env.GC_PROBE_DIR !== undefined) {
  probe(process.env.GC_PROBE_DIR);
}
