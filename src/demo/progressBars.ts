/** One line per node with a bar, redrawn in place (ANSI cursor-up) on a terminal. */
let drawnLines = 0;

export function renderProgress(jobs: ReadonlyArray<{ nodeId: string; state: string; progress: number }>, seconds: number): string {
  const width = 40;
  const lines = jobs.map((job) => {
    const filled = Math.round(job.progress * width);
    return `  ${job.nodeId.padEnd(10)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(job.progress * 100).toFixed(0).padStart(3)}% ${job.state}`;
  });
  lines.push(`  ${seconds.toFixed(1)} s`);
  const up = drawnLines > 0 ? `\u001b[${drawnLines}A` : '';
  drawnLines = lines.length;
  return `${up}${lines.map((line) => `${line}\u001b[K`).join('\n')}\n`;
}
