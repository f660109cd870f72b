import type { FleetReport } from './report.ts';

const colours: Record<string, string> = { torrentedge: '#1f77b4', direct: '#d62728', webtorrent: '#2ca02c', bittorrent: '#ff7f0e' };
const [width, height, left, right, top, bottom] = [720, 400, 60, 150, 30, 50];

/**
 * The CDF of node completion times per system, as a step polyline per system, with T_lb as a
 * dashed line: a plain SVG, so the plot needs no library and diffs as text.
 */
export function renderCdf(report: FleetReport): string {
  const all = Object.values(report.systems).flatMap((r) => r.nodeSeconds.filter((s): s is number => s !== null));
  const xMax = niceCeiling(Math.max(report.lowerBoundSeconds, ...all) * 1.05);
  const x = (s: number): number => left + ((width - left - right) * s) / xMax;
  const y = (fraction: number): number => height - bottom - (height - top - bottom) * fraction;
  const parts: string[] = [];
  for (let tick = 0; tick <= 5; tick++) {
    const s = (xMax * tick) / 5;
    parts.push(`<line x1="${x(s)}" y1="${y(0)}" x2="${x(s)}" y2="${y(1)}" stroke="#eee"/>`, `<text x="${x(s)}" y="${y(0) + 18}" text-anchor="middle">${round(s)}</text>`);
  }
  for (const fraction of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${x(0)}" y1="${y(fraction)}" x2="${x(xMax)}" y2="${y(fraction)}" stroke="#eee"/>`, `<text x="${x(0) - 8}" y="${y(fraction) + 4}" text-anchor="end">${fraction}</text>`);
  }
  parts.push(`<line x1="${x(report.lowerBoundSeconds)}" y1="${y(0)}" x2="${x(report.lowerBoundSeconds)}" y2="${y(1)}" stroke="#555" stroke-dasharray="4 4"/>`);
  parts.push(`<text x="${x(report.lowerBoundSeconds) + 4}" y="${top - 6}">T_lb ${report.lowerBoundSeconds.toFixed(1)} s</text>`);
  Object.entries(report.systems).forEach(([name, r], index) => {
    const sorted = r.nodeSeconds.filter((s): s is number => s !== null).sort((a, b) => a - b);
    const points = [`${x(0)},${y(0)}`];
    sorted.forEach((s, i) => points.push(`${x(s)},${y(i / r.nodeSeconds.length)}`, `${x(s)},${y((i + 1) / r.nodeSeconds.length)}`));
    const colour = colours[name] ?? '#000';
    parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${points.join(' ')}"/>`);
    parts.push(`<rect x="${width - right + 16}" y="${top + 20 * index}" width="12" height="12" fill="${colour}"/>`, `<text x="${width - right + 34}" y="${top + 20 * index + 11}">${name}</text>`);
  });
  const title = `${report.nodes} nodes, ${(report.artifactBytes / 2 ** 20).toFixed(0)} MiB, ${report.shaping.nodeMbit} Mbit/s per host`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${left}" y="16" font-weight="bold">Node completion CDF: ${title}</text>`,
    ...parts,
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(xMax)}" y2="${y(0)}" stroke="#000"/><line x1="${x(0)}" y1="${y(0)}" x2="${x(0)}" y2="${y(1)}" stroke="#000"/>`,
    `<text x="${(left + width - right) / 2}" y="${height - 10}" text-anchor="middle">seconds from the start of the distribution</text>`,
    `<text x="16" y="${(top + height - bottom) / 2}" transform="rotate(-90 16 ${(top + height - bottom) / 2})" text-anchor="middle">fraction of nodes done</text>`,
    '</svg>',
    '',
  ].join('\n');
}

const round = (value: number): string => (value >= 10 ? value.toFixed(0) : value.toFixed(1));

function niceCeiling(value: number): number {
  const step = 10 ** Math.floor(Math.log10(value)) / 2;
  return Math.ceil(value / step) * step;
}
