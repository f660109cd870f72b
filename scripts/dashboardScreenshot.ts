/**
 * Keeps a screenshot of the dashboard during a real run: `torrentedge demo`'s control plane,
 * worker processes (fetching from peers at a capped rate, so the run lasts) and HTTP origin, with
 * Debian's Chromium on the page halfway through. `node scripts/dashboardScreenshot.ts [out.png]`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { runDemo } from '../src/demo/runDemo.ts';

const output = resolve(process.argv[2] ?? 'docs/dashboard.png');
const profile = await mkdtemp(join(tmpdir(), 'te-screenshot-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1400, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const summary = await runDemo({
    nodes: Number(process.env.TE_NODES ?? 6),
    sizeBytes: Number(process.env.TE_MIB ?? 192) * 1024 * 1024,
    json: true,
    workerEnv: { TORRENTEDGE_DOWNLOAD_LIMIT: String(12 * 1024 * 1024) },
    whileRunning: async ({ apiUrl, adminToken, transferId }) => {
      const page = await browser.newPage();
      await page.goto(`${apiUrl}/dashboard#token=${adminToken}`);
      await page.locator(`#transfers tr[data-transfer="${transferId}"]`).waitFor({ timeout: 60_000 });
      await page.locator(`#transfers tr[data-transfer="${transferId}"]`).click();
      // Halfway: some node past 40%, none finished yet.
      await page.waitForFunction(() => {
        const percents = [...document.querySelectorAll('#nodes .pct')].map((cell) => Number.parseInt(cell.textContent ?? '0', 10));
        return percents.length > 0 && percents.some((p) => p >= 40) && percents.every((p) => p < 100);
      }, undefined, { timeout: 120_000, polling: 250 });
      await page.screenshot({ path: output, fullPage: true });
    },
  });
  process.stdout.write(`${output}: ${summary.nodes} nodes, ${summary.seconds.toFixed(1)} s, origin ${summary.originRatio.toFixed(3)} × F, identical ${summary.allIdentical}\n`);
} finally {
  await browser.close();
  await rm(profile, { recursive: true, force: true });
}
