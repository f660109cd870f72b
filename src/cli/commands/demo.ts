import { runDemo } from '../../demo/runDemo.ts';

const units: Record<string, number> = { '': 1, k: 2 ** 10, kib: 2 ** 10, m: 2 ** 20, mib: 2 ** 20, g: 2 ** 30, gib: 2 ** 30 };

export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = units[(match?.[2] ?? 'x').toLowerCase()];
  if (match === null || unit === undefined) throw new Error(`--size is a number with an optional unit (KiB, MiB, GiB), not "${text}"`);
  const bytes = Math.round(Number(match[1]) * unit);
  if (bytes < 1) throw new Error('--size must be at least one byte');
  return bytes;
}

/** `torrentedge demo --nodes N --size SIZE [--json]`. */
export async function runDemoCommand(options: { nodes: string | undefined; size: string | undefined; json: boolean }): Promise<number> {
  const nodes = Number(options.nodes ?? '4');
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 64) throw new Error('--nodes must be a whole number from 1 to 64');
  const summary = await runDemo({ nodes, sizeBytes: parseSize(options.size ?? '256MiB'), json: options.json });
  if (options.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
    process.stdout.write(
      [
        '',
        `  ${summary.nodes} nodes received ${mib(summary.artifactBytes)} in ${summary.seconds.toFixed(1)} s`,
        `  origin served ${mib(summary.originBytes)}: ${summary.originRatio.toFixed(3)} × the artifact`,
        `  from peers:   ${mib(summary.peerBytes)}`,
        `  per node (s): ${summary.nodeSeconds.map((s) => s.toFixed(1)).join(' ')}`,
        `  SHA-256 ${summary.sha256}: ${summary.allIdentical ? 'identical on every node' : 'MISMATCH on some node'}`,
        '',
      ].join('\n'),
    );
  }
  return summary.allIdentical ? 0 : 1;
}
