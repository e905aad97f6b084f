/**
 * The HTML report in a real browser (Debian's `chromium`, headless, driven by playwright-core): the page of each
 * fixture loads from disk without fetching anything or running anything, and the timeline is checked from the page
 * itself: an element for each denied packet with its cause, its label, the state lifetime bars, and their geometry
 * (a packet denied because its state expired lies after that state's bar and pf's purge window; the bar's length
 * against the gap is the timeout against the idle time). Skips, saying why, when chromium is not installed;
 * `.ci/run` installs it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCliCaptured } from '../helpers/cli.js';
import { HOSTILE_IFNAME, HOSTILE_PROCESS, buildHostileNames, buildManyFlows, HOST } from '../helpers/html-captures.js';

const OPENVPN = join(REPO_ROOT, 'fixtures/pcap/openvpn-idle.pcap');
const PFLOG = join(REPO_ROOT, 'fixtures/pflog/macos-sleep.pcap');

function findChromium(): string | undefined {
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  const which = spawnSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' });
  const path = which.stdout.trim().split('\n')[0];
  return which.status === 0 && path ? path : undefined;
}

const CHROMIUM = findChromium();

// What the functions given to page.evaluate see in the page; the project's TypeScript lib has no DOM.
declare const document: { scripts: { length: number }; body: unknown; querySelector(selector: string): unknown; querySelectorAll(selector: string): { length: number } };
declare function getComputedStyle(element: unknown): { backgroundColor: string; color: string; fill: string; stroke: string };
const scratch = mkdtempSync(join(tmpdir(), 'udptrack-html-browser-'));

/** Geometry of an element as the browser laid it out. */
interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
  centerX: number;
}

describe.skipIf(CHROMIUM === undefined)('the HTML report in headless Chromium', () => {
  let browser: Browser;
  const pages: Record<string, string> = {};

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM! });
    const make = async (name: string, args: string[]): Promise<void> => {
      const path = join(scratch, `${name}.html`);
      const result = await runCliCaptured([args[0]!, '--html', path, ...args.slice(1)]);
      expect(result.exitCode, result.stderr).toBe(0);
      pages[name] = path;
    };
    await make('analyze', ['analyze', OPENVPN]);
    await make('explain', ['explain', '--capture', OPENVPN]);
    await make('explain-pflog', ['explain', '--denied', PFLOG]);
    await make('simulate', ['simulate', '--all', OPENVPN]);
    const hostile = join(scratch, 'hostile.pcap');
    writeFileSync(hostile, buildHostileNames());
    await make('hostile', ['analyze', hostile]);
    const many = join(scratch, 'many.pcap');
    writeFileSync(many, buildManyFlows({ lost: 130, unsolicited: 40, expiredOnly: 3000 }));
    await make('many', ['analyze', '--local', HOST, many]);
  });

  afterAll(async () => {
    await browser?.close();
  });

  /** Open a page from disk, recording every request and every console error. */
  async function open(name: string, options: { colorScheme?: 'light' | 'dark'; media?: 'screen' | 'print' } = {}): Promise<{ page: Page; requests: string[]; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 }, colorScheme: options.colorScheme ?? 'light' });
    await page.emulateMedia({ media: options.media ?? 'screen' });
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(pages[name]!).href);
    return { page, requests, errors };
  }

  it('loads from disk, fetches nothing else, runs nothing, logs no error', async () => {
    for (const name of ['analyze', 'explain', 'simulate']) {
      const { page, requests, errors } = await open(name);
      expect(requests).toEqual([pathToFileURL(pages[name]!).href]);
      expect(errors).toEqual([]);
      expect(await page.evaluate(() => document.scripts.length)).toBe(0);
      await page.close();
    }
  });

  it('analyze: an element for each denied packet, with its cause, a visible cross and a visible label', async () => {
    const { page } = await open('analyze');
    const denied = await page.$$eval('.denied', (els) =>
      els.map((el) => {
        const mark = el.querySelector('.denied-mark')!.getBoundingClientRect();
        const svg = el.closest('svg')!.getBoundingClientRect();
        return {
          frame: Number(el.getAttribute('data-frame')),
          cause: el.getAttribute('data-cause'),
          visible: mark.width > 4 && mark.height > 4 && mark.left >= svg.left && mark.right <= svg.right && mark.top >= svg.top && mark.bottom <= svg.bottom,
        };
      }),
    );
    expect(denied.sort((a, b) => a.frame - b.frame)).toEqual([
      { frame: 2, cause: 'never-seen', visible: true },
      { frame: 19, cause: 'never-seen', visible: true },
      { frame: 20, cause: 'never-seen', visible: true },
      { frame: 21, cause: 'state-expired', visible: true },
      { frame: 22, cause: 'state-expired', visible: true },
      { frame: 27, cause: 'state-expired', visible: true },
      { frame: 30, cause: 'state-expired', visible: true },
    ]);
    const labels = await page.$$eval('.cause-label', (els) => els.map((el) => ({ text: el.textContent, width: el.getBoundingClientRect().width })));
    expect(labels.map((l) => l.text).sort()).toEqual(['never-seen', 'never-seen', 'never-seen', 'state-expired ×4']);
    expect(labels.every((l) => l.width > 20)).toBe(true);
    const causes = await page.$$eval('table.causes tbody tr', (rows) => rows.map((r) => `${r.getAttribute('data-cause')} ${r.querySelector('td.num')!.textContent}`));
    expect(causes).toEqual(['state-expired 4', 'never-seen 3']);
    const facts = await page.$eval('dl.facts', (dl) => dl.textContent ?? '');
    expect(facts).toMatch(/Local side\s*192\.168\.1\.10 — the address with the most UDP peers/);
    expect(facts).toMatch(/Profile\s*pf: pf \(OpenBSD, FreeBSD, macOS\); udp\.first=60s, udp\.single=30s, udp\.multiple=60s, interval=10s/);
    await page.close();
  });

  it('analyze: the state bar ends at its expiry and the packets it failed to match lie after it and after the purge', async () => {
    const { page } = await open('analyze');
    const article = page.locator('article[data-remote="198.51.100.7:1194"]');
    const box = (selector: string): Promise<Box> =>
      article.locator(selector).first().evaluate((el) => {
        const r = el.getBoundingClientRect();
        return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, centerX: (r.left + r.right) / 2 };
      });
    const bar = await box('.lifetime-bar[data-flow="4"]');
    const purge = await box('.purge-window[data-flow="4"]');
    const denials = await article.locator('.denied').evaluateAll((els) =>
      els.map((el) => {
        const r = el.querySelector('.denied-mark')!.getBoundingClientRect();
        return { previous: el.getAttribute('data-previous-flow'), x: (r.left + r.right) / 2 };
      }),
    );
    expect(denials).toHaveLength(4);
    for (const d of denials) {
      expect(d.previous).toBe('4');
      expect(d.x).toBeGreaterThan(bar.right + 1);
      expect(d.x).toBeGreaterThan(purge.right + 1);
    }
    expect(purge.left).toBeCloseTo(bar.right, 0);
    // The bar starts at the flow's first packet and ends 60 s after its last one; the first denial came 75.36 s
    // after it. So on the page: (expiry − last packet) / (first denial − last packet) = 60 / 75.36.
    const ticks = await article.locator('.packets .packet').evaluateAll((els) => els.map((el) => el.getBoundingClientRect().left + el.getBoundingClientRect().width / 2));
    const lastBefore = Math.max(...ticks.filter((x) => x < bar.right));
    expect(Math.min(...ticks)).toBeCloseTo(bar.left, 0);
    const firstDenialX = Math.min(...denials.map((d) => d.x));
    expect((bar.right - lastBefore) / (firstDenialX - lastBefore)).toBeCloseTo(60 / 75.36, 2);
    // The gap that mattered is labelled in seconds and spans exactly that stretch.
    const gap = await article.locator('.gap').evaluateAll((els) =>
      els.map((el) => {
        const r = el.querySelector('.gap-line')!.getBoundingClientRect();
        return { text: el.querySelector('text')!.textContent, gapUs: el.getAttribute('data-gap-us'), left: r.left, right: r.right };
      }),
    );
    expect(gap).toHaveLength(1);
    expect(gap[0]!.text).toBe('idle 75.36 s > udp.multiple 60 s');
    expect(gap[0]!.gapUs).toBe('75360000');
    expect(gap[0]!.left).toBeCloseTo(lastBefore, 0);
    expect(gap[0]!.right).toBeCloseTo(firstDenialX, 0);
    expect(await article.locator('p.story').textContent()).toBe(
      "pf forgot this flow at 08:01:03.640, 60 s (udp.multiple) after its last packet at 08:00:03.640 (and pf's purge at 08:01:13.640); the next packet from 198.51.100.7:1194 came at 08:01:19.000, 75.36 s after that one, and was denied: state-expired. 3 more packets were denied after it.",
    );
    // Sent packets stand above the line, received ones below.
    const rows = await article.locator('.packets .packet').evaluateAll((els) => els.map((el) => ({ dir: el.getAttribute('data-dir'), top: el.getBoundingClientRect().top })));
    const line = await box('.packets .baseline');
    expect(rows.filter((r) => r.dir === 'out').every((r) => r.top < line.top)).toBe(true);
    expect(rows.filter((r) => r.dir === 'in').every((r) => r.top >= line.top)).toBe(true);
    await page.close();
  });

  it('explain: each denied packet carries the classifier cause, with evidence and fix', async () => {
    const { page } = await open('explain');
    const causes = await page.$$eval('.denied', (els) => els.map((el) => `${el.getAttribute('data-frame')} ${el.getAttribute('data-cause')}`));
    expect(causes.sort()).toEqual(['19 link-local-multicast', '2 dhcp', '20 link-local-multicast', '21 client-restart', '22 client-restart', '27 client-restart', '30 client-restart']);
    const labels = await page.$$eval('.cause-label', (els) => els.map((el) => el.textContent).sort());
    expect(labels).toEqual(['client-restart ×4', 'dhcp', 'link-local-multicast', 'link-local-multicast']);
    const openvpn = page.locator('article[data-remote="198.51.100.7:1194"]');
    const explanation = await openvpn.locator('.explanation[data-cause="client-restart"]').textContent();
    expect(explanation).toMatch(/client-restart, 4 packets \(confidence 0\.9\)/);
    expect(explanation).toMatch(/Fix: client "explicit-exit-notify 1"/);
    const table = await page.$$eval('table.causes tbody tr', (rows) => rows.map((r) => `${r.getAttribute('data-cause')} ${r.querySelector('td.num')!.textContent}`));
    expect(table).toEqual(['client-restart 4', 'link-local-multicast 2', 'dhcp 1']);
    await page.close();
  });

  it('explain --denied: the log decides, the host\'s own blocked request is drawn as sent, interfaces are named', async () => {
    const { page } = await open('explain-pflog');
    const dhcpOut = page.locator('article[data-local="0.0.0.0:68"]');
    expect(await dhcpOut.locator('.denied').getAttribute('data-cause')).toBe('dhcp');
    expect(await dhcpOut.locator('p.story').textContent()).toMatch(/from the host \(0\.0\.0\.0:68\)/);
    const interfaces = await page.$$eval('table.denials tbody tr', (rows) => [...new Set(rows.map((r) => r.children[5]?.textContent))]);
    expect(interfaces).toEqual(['en0']);
    const vpn = page.locator('article[data-remote="198.51.100.7:1194"]');
    expect(await vpn.locator('.gap text').textContent()).toBe('idle 610.2 s > udp.single 30 s');
    await page.close();
  });

  it('simulate: the same flow under each profile stacked, the profiles that break it stand out', async () => {
    const { page } = await open('simulate');
    const vpn = page.locator('article[data-remote="198.51.100.7:1194"]');
    const lanes = await vpn.locator('.lane').evaluateAll((els) =>
      els.map((el) => ({
        profiles: (el.getAttribute('data-profiles') ?? '').split(' '),
        breaks: el.classList.contains('breaks'),
        denied: [...el.querySelectorAll('.denied')].map((d) => `${d.getAttribute('data-frame')} ${d.getAttribute('data-cause')}`),
        bars: el.querySelectorAll('.lifetime-bar').length,
      })),
    );
    const breaking = lanes.filter((l) => l.breaks).flatMap((l) => l.profiles).sort();
    expect(breaking).toEqual(['gcp', 'pf', 'srx', 'windows', 'zeek']);
    expect(lanes.flatMap((l) => l.profiles)).toHaveLength(13);
    for (const lane of lanes) {
      expect(lane.bars).toBeGreaterThan(0);
      expect(lane.denied).toEqual(lane.breaks ? ['21 state-expired', '22 state-expired', '27 state-expired', '30 state-expired'] : []);
    }
    // Identical lanes share a row: linux and nft model the same 30/120 s conntrack.
    expect(lanes.some((l) => l.profiles.join(' ') === 'linux nft')).toBe(true);
    const noteColours = await vpn.locator('.lane-note').evaluateAll((els) => els.map((el) => ({ text: el.textContent, fill: getComputedStyle(el).fill })));
    const breakingFill = noteColours.find((n) => n.text === 'denies 4')!.fill;
    const keepingFill = noteColours.find((n) => n.text?.endsWith('denies none'))!.fill;
    expect(breakingFill).not.toBe(keepingFill);
    const rows = await page.$$eval('table.profiles tbody tr.breaks', (trs) => trs.map((tr) => tr.getAttribute('data-profile')));
    expect(rows.sort()).toEqual(['gcp', 'pf', 'srx', 'windows', 'zeek']);
    await page.close();
  });

  it('reads in light and dark colour schemes and prints on white', async () => {
    const colours = async (options: { colorScheme: 'light' | 'dark'; media?: 'screen' | 'print' }) => {
      const { page } = await open('analyze', options);
      const result = await page.evaluate(() => {
        const parse = (c: string): number[] => (c.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number);
        const luminance = (c: string): number => {
          const [r, g, b] = parse(c).map((v) => {
            const s = v / 255;
            return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
          });
          return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
        };
        const contrast = (a: string, b: string): number => {
          const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
          return (hi! + 0.05) / (lo! + 0.05);
        };
        const bg = getComputedStyle(document.body).backgroundColor;
        const text = getComputedStyle(document.body).color;
        const label = getComputedStyle(document.querySelector('.cause-label')!).fill;
        const muted = getComputedStyle(document.querySelector('svg text.axis')!).fill;
        return { bg, bgLuminance: luminance(bg), text: contrast(bg, text), label: contrast(bg, label), muted: contrast(bg, muted), mark: getComputedStyle(document.querySelector('.denied-mark')!).stroke };
      });
      await page.close();
      return result;
    };
    const light = await colours({ colorScheme: 'light' });
    const dark = await colours({ colorScheme: 'dark' });
    const print = await colours({ colorScheme: 'dark', media: 'print' });
    expect(light.bgLuminance).toBeGreaterThan(0.9);
    expect(dark.bgLuminance).toBeLessThan(0.05);
    expect(print.bg).toBe('rgb(255, 255, 255)');
    for (const scheme of [light, dark, print]) {
      expect(scheme.text).toBeGreaterThan(7);
      expect(scheme.label).toBeGreaterThan(4.5);
      expect(scheme.muted).toBeGreaterThan(4.5);
    }
    expect(dark.mark).not.toBe(light.mark);
  });

  it('interface and process names that look like markup stay text', async () => {
    const { page, requests } = await open('hostile');
    expect(requests).toHaveLength(1);
    expect(await page.evaluate(() => document.querySelectorAll('img, [onload], [onerror]').length)).toBe(0);
    const cells = await page.$$eval('table.denials tbody tr', (rows) => rows.map((r) => [r.children[5]?.textContent, r.children[6]?.textContent]));
    expect(cells).toEqual([
      [HOSTILE_IFNAME, HOSTILE_PROCESS],
      [HOSTILE_IFNAME, HOSTILE_PROCESS],
    ]);
    const tooltip = await page.locator('.denied title').first().textContent();
    expect(tooltip).toContain(`interface ${HOSTILE_IFNAME}, process ${HOSTILE_PROCESS}`);
    await page.close();
  });

  it('thousands of flows: the page opens with the drawn timelines and the list', async () => {
    const { page, errors } = await open('many');
    expect(errors).toEqual([]);
    expect(await page.locator('article.timeline').count()).toBe(150);
    expect(await page.locator('table.listed-flows tbody tr').count()).toBe(2000);
    expect(await page.locator('article.importance-lost .denied').count()).toBe(100);
    await page.close();
  });
});

describe.skipIf(CHROMIUM !== undefined)('the HTML report in a browser: unavailable', () => {
  it('says why it skipped', () => {
    console.warn('HTML browser tests skipped: chromium is not installed (apt-get install chromium; .ci/run does)');
  });
});
