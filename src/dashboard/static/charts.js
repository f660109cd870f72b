// Canvas drawings: the node × chunk heatmap, throughput over time, origin versus peer bytes.

const colors = { o: '#e0a040', p: '#3fb27f', c: '#5b8def', '-': '#222c38' };

/** One row per node, one cell per chunk; wide artifacts fold several chunks into a cell (the worst wins). */
export function drawHeatmap(canvas, rows) {
  const labelWidth = 90;
  const rowHeight = Math.max(6, Math.min(22, Math.floor(300 / Math.max(1, rows.length))));
  canvas.height = Math.max(40, rows.length * rowHeight + 4);
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const chunkCount = rows.reduce((max, row) => Math.max(max, row.map.length), 0);
  if (chunkCount === 0) return;
  const cells = Math.min(chunkCount, canvas.width - labelWidth);
  const cellWidth = (canvas.width - labelWidth) / cells;
  ctx.font = '11px system-ui';
  rows.forEach((row, r) => {
    const y = r * rowHeight + 2;
    ctx.fillStyle = '#8796a8';
    ctx.fillText(row.nodeId.slice(0, 12), 4, y + rowHeight - 4);
    for (let cell = 0; cell < cells; cell += 1) {
      const from = Math.floor((cell * chunkCount) / cells);
      const to = Math.max(from + 1, Math.floor(((cell + 1) * chunkCount) / cells));
      const slice = row.map.slice(from, to);
      const state = slice.includes('-') ? '-' : slice.includes('o') ? 'o' : slice.includes('p') ? 'p' : 'c';
      ctx.fillStyle = colors[state];
      ctx.fillRect(labelWidth + cell * cellWidth, y, Math.max(1, cellWidth - (cellWidth > 3 ? 1 : 0)), rowHeight - 2);
    }
  });
}

/** The last points (time, bytes/s) as a filled line, scaled to the largest. */
export function drawThroughput(canvas, points, formatBytes) {
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (points.length < 2) return;
  const max = Math.max(1, ...points.map((point) => point.value));
  const first = points[0].at;
  const span = Math.max(1, points[points.length - 1].at - first);
  const x = (at) => ((at - first) / span) * (canvas.width - 10) + 5;
  const y = (value) => canvas.height - 18 - (value / max) * (canvas.height - 30);
  ctx.beginPath();
  ctx.moveTo(x(points[0].at), canvas.height - 18);
  for (const point of points) ctx.lineTo(x(point.at), y(point.value));
  ctx.lineTo(x(points[points.length - 1].at), canvas.height - 18);
  ctx.fillStyle = 'rgba(63, 178, 127, 0.25)';
  ctx.fill();
  ctx.beginPath();
  points.forEach((point, i) => (i === 0 ? ctx.moveTo(x(point.at), y(point.value)) : ctx.lineTo(x(point.at), y(point.value))));
  ctx.strokeStyle = '#3fb27f';
  ctx.stroke();
  ctx.fillStyle = '#8796a8';
  ctx.font = '11px system-ui';
  ctx.fillText(`peak ${formatBytes(max)}/s · now ${formatBytes(points[points.length - 1].value)}/s`, 6, canvas.height - 4);
}

/** One bar: origin, peer and CAS shares of the bytes verified. */
export function drawSources(canvas, bytes) {
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const total = bytes.origin + bytes.peer + bytes.cas;
  if (total === 0) return;
  let x = 0;
  for (const [key, color] of [['origin', colors.o], ['peer', colors.p], ['cas', colors.c]]) {
    const width = (bytes[key] / total) * canvas.width;
    ctx.fillStyle = color;
    ctx.fillRect(x, 10, width, canvas.height - 20);
    x += width;
  }
}
