import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext } from 'playwright-core';
import { startTestControlPlane, tokens, type TestControlPlane } from '../helpers/testControlPlane.ts';
import { nodeTokenEntries, startSimulatedRollout } from '../helpers/simulatedRollout.ts';

// Debian's chromium (.ci/run installs it when missing). Skipped, loudly, only where it cannot be installed.
const executablePath = '/usr/bin/chromium';
const skip = existsSync(executablePath) ? false : `chromium is not installed at ${executablePath} (apt-get install -y chromium)`;
// Set to a path (docs/dashboard.png) to keep a screenshot of the run.
const screenshotPath = process.env.TE_DASHBOARD_SCREENSHOT;

const nodes = ['gpu-1', 'gpu-2', 'gpu-3', 'gpu-4'];
const pieceCount = 64;

describe('the dashboard in headless Chromium: a transfer\'s progress appears while it runs', { skip }, () => {
  let t: TestControlPlane;
  let browser: BrowserContext;
  let profile: string;
  let url: string;
  before(async () => {
    t = await startTestControlPlane('pglite', { extraTokens: nodeTokenEntries(nodes) });
    url = await t.plane.listen();
    profile = await mkdtemp(join(tmpdir(), 'te-chromium-'));
    // A new, empty profile (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    await browser?.close();
    await t?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  it('shows the transfer, then each node\'s completion and the heatmap growing with every report', async () => {
    const rollout = await startSimulatedRollout(t, nodes, { pieceCount, pieceLength: 4 * 1024 * 1024 });
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (message) => { if (message.type() === 'error') consoleErrors.push(message.text()); });
    await page.goto(`${url}/dashboard#token=${tokens.reader}`);
    await page.locator('#connection.live').waitFor();
    assert.doesNotMatch(page.url(), /token/, 'the token leaves the address bar once read');
    await page.locator(`#transfers tr[data-transfer="${rollout.transferId}"]`).waitFor();
    const completion = (nodeId: string) => page.locator(`#nodes tr[data-node="${nodeId}"] .pct`);
    await completion('gpu-2').filter({ hasText: /^0%$/ }).waitFor();

    const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
    // The seed reads the origin in two reports; the peers follow from it and from each other.
    await rollout.reportChunks('gpu-1', range(0, 32));
    await completion('gpu-1').filter({ hasText: /^50%$/ }).waitFor();
    await rollout.reportChunks('gpu-2', range(0, 16));
    await rollout.reportChunks('gpu-3', range(0, 8), 'cas');
    await completion('gpu-2').filter({ hasText: /^25%$/ }).waitFor();
    await rollout.reportChunks('gpu-1', range(32, 64));
    await rollout.reportChunks('gpu-2', range(16, 48));
    await rollout.reportChunks('gpu-4', range(0, 40));
    await completion('gpu-2').filter({ hasText: /^75%$/ }).waitFor();
    await completion('gpu-4').filter({ hasText: /^62%$/ }).waitFor();
    await rollout.complete('gpu-1');
    await page.locator('#nodes tr[data-node="gpu-1"] td', { hasText: 'completed' }).waitFor();

    // The heatmap is painted from the pushes: gpu-2's row has origin-free peer cells, gpu-3's CAS cells.
    const painted = await page.evaluate(() => {
      const canvas = document.getElementById('heatmap') as HTMLCanvasElement;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let peerPixels = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i] === 0x3f && data[i + 1] === 0xb2 && data[i + 2] === 0x7f) peerPixels += 1;
      return peerPixels;
    });
    assert.ok(painted > 0, 'peer cells are painted in the heatmap');
    await page.locator('#total-peer', { hasText: 'MiB' }).waitFor();
    await page.locator('#sources-text', { hasText: /saved at origin 3\d\d MiB/ }).waitFor();
    // The list is re-read on fleet activity (at most about once a second), so it follows too.
    await page.locator(`#transfers tr[data-transfer="${rollout.transferId}"] .pct`).filter({ hasText: /^[1-9]\d*%$/ }).waitFor();
    if (screenshotPath) await page.screenshot({ path: screenshotPath, fullPage: true });
    assert.deepEqual(consoleErrors, []);
    await page.close();
  });

  it('asks again for a token that is refused, and shows no data', async () => {
    const page = await browser.newPage();
    await page.goto(`${url}/dashboard#token=not-a-valid-token-0123456789`);
    await page.locator('#connection', { hasText: 'token refused' }).waitFor();
    assert.equal(await page.locator('#transfers tbody tr').count(), 0);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('torrentedge.token')), null);
    await page.close();
  });
});
