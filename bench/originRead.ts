/**
 * `npm run bench -- origin-read [--size 256MiB] [--rounds 3] [--json]`: the CPU the seed spends
 * reading an HTTP origin. A server in a child process serves `--size` bytes over loopback; this
 * process reads them in 1 MiB ranges, four at a time, through the HTTP origin
 * (src/origin/httpOrigin.ts) and, as the baseline, through fetch with arrayBuffer() (what the
 * origin used before). CPU is this process's user + system time over each pass; the passes
 * alternate, and the report gives medians.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { createHttpOrigin } from '../src/origin/httpOrigin.ts';
import { describeMachine } from './lib/machine.ts';

const mib = 2 ** 20;
const rangeBytes = mib;
const parallel = 4;

/** The child: serves `size` bytes of one buffer with Range support, prints its port. */
const serverSource = `
const http = require('node:http');
const size = Number(process.argv[1]);
const data = Buffer.alloc(Math.min(size, 1 << 20), 7);
http.createServer((req, res) => {
  if (req.method === 'HEAD') { res.writeHead(200, { 'content-length': size, 'accept-ranges': 'bytes' }); return res.end(); }
  const [start, end] = /^bytes=(\\d+)-(\\d+)$/.exec(req.headers.range).slice(1).map(Number);
  res.writeHead(206, { 'content-length': end - start + 1, 'content-range': 'bytes ' + start + '-' + end + '/' + size });
  let left = end - start + 1;
  const push = () => { while (left > 0) { const n = Math.min(left, data.length); left -= n; if (!res.write(data.subarray(0, n))) return res.once('drain', push); } res.end(); };
  push();
}).listen(0, '127.0.0.1', function () { process.send(this.address().port); });
`;

async function pass(size: number, readRange: (offset: number, count: number) => Promise<Uint8Array>): Promise<{ cpuSeconds: number; seconds: number }> {
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < size) {
      const offset = next;
      const count = Math.min(rangeBytes, size - offset);
      next += count;
      const bytes = await readRange(offset, count);
      if (bytes.length !== count) throw new Error(`read ${bytes.length} of ${count} bytes at ${offset}`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  const cpu = process.cpuUsage(cpu0);
  return { cpuSeconds: (cpu.user + cpu.system) / 1e6, seconds: (performance.now() - started) / 1000 };
}

const median = (values: number[]): number => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { size: { type: 'string', default: '256MiB' }, rounds: { type: 'string', default: '3' }, json: { type: 'boolean', default: false } } });
  const sizeMatch = /^(\d+)(MiB|GiB)$/.exec(values.size);
  const rounds = Number(values.rounds);
  if (sizeMatch === null || !Number.isInteger(rounds) || rounds < 1) {
    console.error('usage: npm run bench -- origin-read [--size N(MiB|GiB)] [--rounds N] [--json]');
    return 2;
  }
  const size = Number(sizeMatch[1]) * (sizeMatch[2] === 'GiB' ? 1024 : 1) * mib;
  const server = spawn(process.execPath, ['-e', serverSource, String(size)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  try {
    const [port] = (await once(server, 'message')) as [number];
    const url = `http://127.0.0.1:${port}/artifact.bin`;
    const origin = createHttpOrigin(url);
    await origin.describe();
    const viaOrigin = (offset: number, count: number): Promise<Uint8Array> => origin.read(0, offset, count);
    const viaFetch = async (offset: number, count: number): Promise<Uint8Array> =>
      new Uint8Array(await (await fetch(url, { headers: { range: `bytes=${offset}-${offset + count - 1}` } })).arrayBuffer());
    await pass(Math.min(size, 32 * mib), viaOrigin); // warm both paths up
    await pass(Math.min(size, 32 * mib), viaFetch);
    const results = { origin: [] as Array<{ cpuSeconds: number; seconds: number }>, fetch: [] as Array<{ cpuSeconds: number; seconds: number }> };
    for (let round = 0; round < rounds; round++) {
      results.origin.push(await pass(size, viaOrigin));
      results.fetch.push(await pass(size, viaFetch));
    }
    const gib = size / 2 ** 30;
    const summary = (passes: Array<{ cpuSeconds: number; seconds: number }>) => ({
      cpuSecondsPerGiB: median(passes.map((p) => p.cpuSeconds / gib)),
      throughputMBps: median(passes.map((p) => size / 1e6 / p.seconds)),
    });
    const report = {
      machine: describeMachine(),
      size,
      rounds,
      torrentedge: summary(results.origin),
      baseline: summary(results.fetch),
      cpuRatio: median(results.origin.map((p, i) => p.cpuSeconds / results.fetch[i]!.cpuSeconds)),
    };
    if (values.json) console.log(JSON.stringify(report));
    else {
      console.log(`origin read of ${values.size} in 1 MiB ranges, ${parallel} at a time, ${rounds} rounds (medians); ${report.machine.cpu}, ${report.machine.cores} cores`);
      console.log(`  HTTP origin (undici request): ${report.torrentedge.cpuSecondsPerGiB.toFixed(2)} CPU s/GiB, ${report.torrentedge.throughputMBps.toFixed(0)} MB/s`);
      console.log(`  baseline (fetch, arrayBuffer): ${report.baseline.cpuSecondsPerGiB.toFixed(2)} CPU s/GiB, ${report.baseline.throughputMBps.toFixed(0)} MB/s`);
      console.log(`  CPU ratio: ${report.cpuRatio.toFixed(2)}`);
    }
    return 0;
  } finally {
    server.kill();
  }
}
