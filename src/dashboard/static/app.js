import { drawHeatmap, drawSources, drawThroughput } from './charts.js';
import { connect, forgetToken, formatBytes, query, readToken, subscribe } from './live.js';

const $ = (id) => document.getElementById(id);
const jobFields = 'nodeId role state progress throughput fencingToken chunksVerified bytes { origin peer cas }';
const transferFields = `id name status progress pieceCount totalBytes nodes { total completed failed } bytes { verified origin peer cas } bytesSavedAtOrigin jobs { ${jobFields} }`;
const listQuery = `{ transfers(first: 25) { items { id name status progress nodes { total completed } } } fleet { transfers nodes activeJobs bytes { origin peer cas } bytesSavedAtOrigin } }`;
const detailQuery = `query($id: ID!) { transfer(id: $id) { ${transferFields} chunks { nodeId map } } }`;
const progressSubscription = `subscription($id: ID!) { transferProgress(id: $id) { chunks { nodeId source chunkIndexes } transfer { ${transferFields} } } }`;
const fleetSubscription = 'subscription { fleetActivity { transferIds fleet { transfers nodes activeJobs bytes { origin peer cas } bytesSavedAtOrigin } } }';

const state = { selected: undefined, transfer: undefined, maps: new Map(), throughput: [], stopDetail: undefined, listPending: false, listDirty: false };
const letter = { origin: 'o', peer: 'p', cas: 'c' };

function setStatus(status) {
  const badge = $('connection');
  badge.textContent = status === 'live' ? 'live' : status === 'refused' ? 'token refused' : 'reconnecting…';
  badge.className = `badge ${status === 'live' ? 'live' : 'down'}`;
  if (status === 'refused') forgetToken();
}

function renderFleet(fleet) {
  $('total-transfers').textContent = fleet.transfers;
  $('total-nodes').textContent = fleet.nodes;
  $('total-active').textContent = fleet.activeJobs;
  $('total-origin').textContent = formatBytes(fleet.bytes.origin);
  $('total-peer').textContent = formatBytes(fleet.bytes.peer + fleet.bytes.cas);
  const total = fleet.bytes.origin + fleet.bytes.peer + fleet.bytes.cas;
  $('total-saved').textContent = total === 0 ? '–' : `${Math.round((fleet.bytesSavedAtOrigin / total) * 100)}%`;
}

function bar(fraction) {
  const wrap = document.createElement('span');
  const outer = document.createElement('span');
  outer.className = 'bar';
  const inner = document.createElement('i');
  inner.style.width = `${Math.round(fraction * 100)}%`;
  outer.append(inner);
  const pct = document.createElement('span');
  pct.className = 'pct';
  pct.textContent = `${Math.floor(fraction * 100)}%`;
  wrap.append(outer, pct);
  return wrap;
}

function cell(row, content, className) {
  const td = document.createElement('td');
  if (content instanceof Node) td.append(content);
  else td.textContent = String(content);
  if (className) td.className = className;
  row.append(td);
}

function renderList(items) {
  const body = $('transfers').tBodies[0];
  body.replaceChildren(...items.map((transfer) => {
    const row = document.createElement('tr');
    row.dataset.transfer = transfer.id;
    if (transfer.id === state.selected) row.className = 'selected';
    cell(row, transfer.name ?? transfer.id.slice(0, 8));
    cell(row, transfer.status, `status-${transfer.status}`);
    cell(row, bar(transfer.progress));
    cell(row, `${transfer.nodes.completed}/${transfer.nodes.total}`);
    row.addEventListener('click', () => select(transfer.id));
    return row;
  }));
}

function renderDetail() {
  const transfer = state.transfer;
  if (transfer === undefined) return;
  $('detail-title').textContent = transfer.name ?? transfer.id;
  $('detail-meta').textContent = `${transfer.status} · ${transfer.pieceCount ?? '?'} chunks · ${transfer.totalBytes === null ? 'size unknown' : formatBytes(transfer.totalBytes)} · ${transfer.nodes.completed}/${transfer.nodes.total} nodes complete`;
  const rows = transfer.jobs.map((job) => ({ nodeId: job.nodeId, map: state.maps.get(job.nodeId) ?? '-'.repeat(transfer.pieceCount ?? 0) }));
  drawHeatmap($('heatmap'), rows);
  drawThroughput($('throughput'), state.throughput, formatBytes);
  drawSources($('sources'), transfer.bytes);
  const { origin, peer, cas } = transfer.bytes;
  $('sources-text').textContent = `origin ${formatBytes(origin)} · peers ${formatBytes(peer)} · CAS ${formatBytes(cas)} · saved at origin ${formatBytes(transfer.bytesSavedAtOrigin)}`;
  $('nodes').tBodies[0].replaceChildren(...transfer.jobs.map((job) => {
    const row = document.createElement('tr');
    row.dataset.node = job.nodeId;
    cell(row, job.nodeId);
    cell(row, job.role);
    cell(row, job.state, `status-${job.state === 'completed' ? 'completed' : job.state === 'failed' ? 'failed' : 'running'}`);
    cell(row, bar(job.progress));
    cell(row, `${formatBytes(job.throughput)}/s`);
    cell(row, formatBytes(job.bytes.origin));
    cell(row, formatBytes(job.bytes.peer));
    cell(row, formatBytes(job.bytes.cas));
    cell(row, job.fencingToken);
    return row;
  }));
}

function applyTransfer(transfer) {
  state.transfer = transfer;
  const now = Date.now();
  state.throughput.push({ at: now, value: transfer.jobs.reduce((sum, job) => sum + job.throughput, 0) });
  state.throughput = state.throughput.filter((point) => now - point.at < 5 * 60_000);
}

function applyChunks(batches) {
  for (const batch of batches) {
    const cells = (state.maps.get(batch.nodeId) ?? '-'.repeat(state.transfer?.pieceCount ?? 0)).split('');
    for (const index of batch.chunkIndexes) cells[index] = letter[batch.source] ?? '?';
    state.maps.set(batch.nodeId, cells.join(''));
  }
}

let client;

async function select(id) {
  state.stopDetail?.();
  state.selected = id;
  state.throughput = [];
  for (const row of $('transfers').tBodies[0].rows) row.className = row.dataset.transfer === id ? 'selected' : '';
  // Subscribe first, then read: a commit between the two is applied twice, which is harmless.
  state.stopDetail = subscribe(client, progressSubscription, { id }, ({ transferProgress }) => {
    if (state.selected !== id) return;
    applyChunks(transferProgress.chunks);
    if (transferProgress.transfer) applyTransfer(transferProgress.transfer);
    renderDetail();
  });
  const { transfer } = await query(client, detailQuery, { id });
  if (transfer === null || state.selected !== id) return;
  state.maps = new Map(transfer.chunks.map((row) => [row.nodeId, row.map]));
  applyTransfer(transfer);
  renderDetail();
}

// The list is re-read on fleet activity, at most about once a second.
async function refreshList() {
  if (state.listPending) {
    state.listDirty = true;
    return;
  }
  state.listPending = true;
  state.listDirty = false;
  try {
    const data = await query(client, listQuery);
    renderList(data.transfers.items);
    renderFleet(data.fleet);
    if (state.selected === undefined && data.transfers.items.length > 0) {
      const running = data.transfers.items.find((item) => item.status === 'running') ?? data.transfers.items[0];
      await select(running.id);
    }
  } finally {
    setTimeout(() => {
      state.listPending = false;
      if (state.listDirty) void refreshList();
    }, 1000);
  }
}

const token = readToken();
if (!token) setStatus('refused');
else {
  client = connect(token, setStatus);
  subscribe(client, fleetSubscription, {}, ({ fleetActivity }) => {
    renderFleet(fleetActivity.fleet);
    void refreshList();
  });
  void refreshList();
}
