#!/usr/bin/env node
/**
 * screenshot.mjs - the README's picture of the HTML report (`npm run screenshot`, which builds first).
 *
 * Writes the page of `udptrack explain --capture fixtures/pcap/openvpn-idle.pcap --html` to a temporary folder,
 * opens it in the same headless Chromium the browser test uses (Debian's `chromium`; another one with
 * CHROMIUM=/path/to/chrome), and saves the summary and the first timeline as docs/html-report.png.
 *
 *   npm run screenshot                     light colour scheme
 *   npm run screenshot -- --dark           dark colour scheme, to docs/html-report-dark.png
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dark = process.argv.includes('--dark');
const output = path.join(ROOT, 'docs', dark ? 'html-report-dark.png' : 'html-report.png');
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
if (!fs.existsSync(executablePath)) {
  console.error(`screenshot: no browser at ${executablePath} (apt-get install chromium, or set CHROMIUM)`);
  process.exit(2);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'udptrack-screenshot-'));
const page = path.join(dir, 'report.html');
const run = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'udptrack.js'), 'explain', '--capture', 'fixtures/pcap/openvpn-idle.pcap', '--html', page], {
  cwd: ROOT,
  env: { ...process.env, TZ: 'UTC', NO_COLOR: '1' },
  encoding: 'utf8',
});
if (run.status !== 0) {
  console.error(`screenshot: udptrack exited ${run.status}: ${run.stderr}`);
  process.exit(1);
}

const browser = await chromium.launch({ executablePath });
try {
  const tab = await browser.newPage({ viewport: { width: 1120, height: 1000 }, deviceScaleFactor: 1, colorScheme: dark ? 'dark' : 'light' });
  await tab.goto(pathToFileURL(page).href);
  // The summary and the first timeline: chart, denials, and the verdict with its fix.
  const bottom = await tab.locator('#timeline-1').evaluate((el) => el.getBoundingClientRect().bottom + window.scrollY);
  await tab.screenshot({ path: output, fullPage: true, clip: { x: 0, y: 0, width: 1120, height: Math.ceil(bottom + 12) } });
  console.log(`screenshot: wrote ${path.relative(ROOT, output)}`);
} finally {
  await browser.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
