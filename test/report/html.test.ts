/**
 * The HTML report without a browser: the markup template escapes, the page is self-contained, `--html` leaves the
 * stdout report unchanged and fails like every other bad option, and the collector's memory and the page stay
 * bounded on captures with long flows and thousands of flows. The drawing itself is checked in Chromium
 * (html-browser.test.ts).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../src/flow/profiles.js';
import { analyzeCapture } from '../../src/pipeline/analyze.js';
import { TimelineCollector } from '../../src/pipeline/timeline.js';
import { escapeHtml, html, raw } from '../../src/report/html/markup.js';
import { mergeIdenticalLanes } from '../../src/report/html/timeline-svg.js';
import { HOSTILE_IFNAME, HOSTILE_PROCESS, HOST, buildHostileNames, buildLongFlow, buildManyFlows } from '../helpers/html-captures.js';
import { REPO_ROOT, runCliCaptured } from '../helpers/cli.js';

const OPENVPN = join(REPO_ROOT, 'fixtures/pcap/openvpn-idle.pcap');
const PFLOG = join(REPO_ROOT, 'fixtures/pflog/macos-sleep.pcap');
const GOLDEN = join(REPO_ROOT, 'test/golden/expected');
const scratch = mkdtempSync(join(tmpdir(), 'udptrack-html-'));

function writeCapture(name: string, bytes: Uint8Array): string {
  const path = join(scratch, name);
  writeFileSync(path, bytes);
  return path;
}

describe('the html template', () => {
  it('escapes every interpolated string, in text and in quoted attributes', () => {
    const name = `<script>alert("x")</script>&'`;
    expect(html`<p title="${name}">${name}</p>`.text).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</p>',
    );
    expect(escapeHtml('a<b')).toBe('a&lt;b');
  });

  it('inserts markup made by html or raw, joins arrays, drops false and undefined, and refuses NaN', () => {
    const items = ['<a>', 'b'].map((t) => html`<li>${t}</li>`);
    expect(html`<ul>${items}${false}${undefined}${raw('<hr>')}</ul>`.text).toBe('<ul><li>&lt;a&gt;</li><li>b</li><hr></ul>');
    expect(html`${1795161600000123}|${1.23456}`.text).toBe('1795161600000123|1.23');
    expect(() => html`${Number.NaN}`).toThrow(/NaN/);
  });
});

describe('--html on the fixtures', () => {
  it('leaves the stdout report byte for byte as without it (analyze, explain, simulate)', async () => {
    const cases: Array<[string[], string]> = [
      [['analyze', OPENVPN], 'analyze-openvpn-idle.out'],
      [['explain', '--denied', PFLOG], 'explain-macos-sleep.out'],
      [['simulate', '--all', OPENVPN], 'simulate-openvpn-idle-all.out'],
    ];
    for (const [args, golden] of cases) {
      const page = join(scratch, `${golden}.html`);
      const result = await runCliCaptured([args[0]!, '--html', page, ...args.slice(1)]);
      expect(result.exitCode).toBe(0);
      expect(result.stderr).toBe('');
      expect(result.stdout.replaceAll(REPO_ROOT + '/', '')).toBe(readFileSync(join(GOLDEN, golden), 'utf8'));
      expect(readFileSync(page, 'utf8')).toMatch(/^<!doctype html>\n<html lang="en">/);
    }
  });

  it('writes a self-contained page: no script, no external URL, a policy that forbids loading anything', async () => {
    const page = join(scratch, 'self-contained.html');
    await runCliCaptured(['explain', '--capture', OPENVPN, '--html', page]);
    const text = readFileSync(page, 'utf8');
    expect(text).not.toMatch(/<script/i);
    expect(text).not.toMatch(/\b(src|href|xlink:href)="(?!#)/);
    expect(text).not.toMatch(/url\((?!#)/);
    expect(text).not.toMatch(/@import|@font-face/);
    expect(text).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;/);
    expect(text).toMatch(/@media \(prefers-color-scheme: dark\)/);
    expect(text).toMatch(/@media print/);
  });

  it('names the denials by the classifier (explain) or by the model (analyze)', async () => {
    const explainPage = join(scratch, 'explain.html');
    await runCliCaptured(['explain', '--capture', OPENVPN, '--html', explainPage]);
    const causes = [...readFileSync(explainPage, 'utf8').matchAll(/<g class="denied deny" data-frame="(\d+)" data-cause="([a-z-]+)"/g)].map((m) => `${m[1]} ${m[2]}`);
    expect(causes.sort()).toEqual(['19 link-local-multicast', '2 dhcp', '20 link-local-multicast', '21 client-restart', '22 client-restart', '27 client-restart', '30 client-restart']);
    const analyzePage = join(scratch, 'analyze.html');
    await runCliCaptured(['analyze', '--html', analyzePage, OPENVPN]);
    const reasons = [...readFileSync(analyzePage, 'utf8').matchAll(/<g class="denied deny" data-frame="(\d+)" data-cause="([a-z-]+)"/g)].map((m) => `${m[1]} ${m[2]}`);
    expect(reasons.sort()).toEqual(['19 never-seen', '2 never-seen', '20 never-seen', '21 state-expired', '22 state-expired', '27 state-expired', '30 state-expired']);
  });
});

describe('--html with nothing to draw', () => {
  it('a Little Snitch traffic log without a capture lists its verdicts as text', async () => {
    const page = join(scratch, 'ls-csv.html');
    const result = await runCliCaptured(['explain', '--denied', join(REPO_ROOT, 'fixtures/little-snitch/log-traffic.csv'), '--html', page]);
    expect(result.exitCode).toBe(0);
    const text = readFileSync(page, 'utf8');
    expect(text).not.toMatch(/<article /);
    expect(text).toContain('No captured packets to draw: the verdicts are listed below as text');
    expect(text).toMatch(/<section class="verdicts"[\s\S]*<tr data-frame="\d+" data-cause="[a-z-]+">/);
  });
});

describe('bad --html use: one line on stderr, exit 2, before any work', () => {
  const expectOneLine = (result: { exitCode: number; stderr: string }, pattern: RegExp): void => {
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(pattern);
  };

  it('a folder that does not exist, a folder as the file, or `-`', async () => {
    expectOneLine(await runCliCaptured(['analyze', '--html', join(scratch, 'missing/dir/r.html'), OPENVPN]), /^udptrack: --html .*missing\/dir\/r\.html: cannot write there \(ENOENT\)/);
    expectOneLine(await runCliCaptured(['simulate', '--html', scratch, OPENVPN]), /^udptrack: --html .*: is a directory/);
    expectOneLine(await runCliCaptured(['analyze', '--html', '-', OPENVPN]), /--html needs a file path/);
  });

  it('a Little Snitch alert alone has no packets to draw', async () => {
    const result = await runCliCaptured(['explain', '--little-snitch-file', join(REPO_ROOT, 'fixtures/little-snitch/alert-ls4-btguard.txt'), '--html', join(scratch, 'ls.html')]);
    expectOneLine(result, /--html draws the packets of --denied or --capture/);
    expect(result.stdout).toBe('');
  });
});

describe('text from the capture is escaped', () => {
  it('interface and process names that look like markup show as text', async () => {
    const capture = writeCapture('hostile.pcap', buildHostileNames());
    const page = join(scratch, 'hostile.html');
    expect((await runCliCaptured(['analyze', '--html', page, capture])).exitCode).toBe(0);
    const text = readFileSync(page, 'utf8');
    expect(text).not.toContain(HOSTILE_IFNAME);
    expect(text).not.toContain(HOSTILE_PROCESS);
    expect(text).toContain(`<td>${escapeHtml(HOSTILE_IFNAME)}</td><td>${escapeHtml(HOSTILE_PROCESS)}</td>`);
  });
});

describe('bounded memory and page size', () => {
  it('a flow of 20,003 packets keeps the first and last packets of its state lifetime, and says so', async () => {
    const { bytes } = buildLongFlow(10_000);
    const profile = getProfile('pf');
    const timeline = new TimelineCollector({ profiles: [profile] });
    await analyzeCapture(writeCapture('long.pcap', bytes), { file: 'long.pcap', profile, localNetworks: [HOST], keep: 0, timeline });
    const data = timeline.finish();
    expect(data.timelines).toHaveLength(1);
    const flow = data.timelines[0]!;
    expect(flow.packetsTotal).toBe(20_003);
    // 32 + 96 of the expired state's 20,000 packets, then the 3 denied ones (a record of their own).
    expect(flow.packets).toHaveLength(131);
    expect(flow.packetsOmitted).toBe(20_003 - 131);
    expect(flow.packets.slice(0, 32).every((p, i) => p.frame === i + 1)).toBe(true);
    expect(flow.packets[127]!.frame).toBe(20_000);
    expect(flow.lanes[0]!.denied.map((d) => d.reason)).toEqual(['state-expired', 'state-expired', 'state-expired']);
    expect(data.cappedTimelines).toBe(1);

    const page = join(scratch, 'long.html');
    await runCliCaptured(['analyze', '--local', HOST, '--html', page, writeCapture('long2.pcap', bytes)]);
    const text = readFileSync(page, 'utf8');
    expect(text).toContain('Capped: 131 packets of 20,003 drawn');
    // Ten minutes of traffic before a 100 s gap: the chart starts shortly before the gap and says so.
    const startUs = Number(/data-start-us="(\d+)"/.exec(text)![1]);
    expect(text).toMatch(/earlier activity on this flow is off the left edge/);
    const inWindow = flow.packets.filter((p) => p.tsUs >= startUs).length;
    expect(inWindow).toBeGreaterThan(3);
    expect(inWindow).toBeLessThan(131);
    expect(text.match(/<line class="packet [^"]*" data-frame=/g)).toHaveLength(inWindow);
  });

  it('thousands of flows: the ones that matter drawn up to their budgets, the rest listed, then only counted', async () => {
    const capture = writeCapture('many.pcap', buildManyFlows({ lost: 130, unsolicited: 40, expiredOnly: 5000 }));
    const profile = getProfile('pf');
    const timeline = new TimelineCollector({ profiles: [profile] });
    await analyzeCapture(capture, { file: 'many.pcap', profile, localNetworks: [HOST], keep: 0, timeline });
    const data = timeline.finish();
    const drawn = (importance: string): number => data.timelines.filter((t) => t.importance === importance).length;
    expect([drawn('lost'), drawn('unsolicited'), drawn('expired')]).toEqual([100, 25, 25]);
    // Lost flows past the budget keep their expired state in their row; DNS flows that only expired fill the rest.
    const lostRows = data.listed.filter((r) => r.reasons.includes('state-expired'));
    expect(lostRows).toHaveLength(30);
    expect(lostRows.every((r) => r.expirations === 1 && r.denied[0] === 1)).toBe(true);
    expect(data.listed.filter((r) => r.reasons.includes('never-seen'))).toHaveLength(15);
    expect(data.listed).toHaveLength(2000);
    expect(data.listedOmittedFlows).toBe(5000 - 25 - (2000 - 45));
    expect(data.timelines.filter((t) => t.importance === 'expired').every((t) => t.service === 'dns')).toBe(true);

    const page = join(scratch, 'many.html');
    await runCliCaptured(['analyze', '--local', HOST, '--html', page, capture]);
    const text = readFileSync(page, 'utf8');
    expect(text.match(/<article /g)).toHaveLength(150);
    expect(text).toContain('3,020 more flows that only expired past the list&#39;s limit of 2000 rows are only counted');
    expect(text.length).toBeLessThan(3_000_000);
  });
});

describe('stacked lanes', () => {
  it('profiles whose lanes look the same share one; flow ids do not count', () => {
    const lane = (profile: string, flowId: number, timeoutUs: number) => ({
      profile,
      lifetimes: [{ flowId, createdUs: 0, endUs: timeoutUs, expired: true, wouldExpireUs: timeoutUs, purgeEndUs: undefined, lastPacketUs: 0, segments: [{ fromUs: 0, toUs: timeoutUs, timeoutKey: 'replied', timeoutUs, keyRank: 1 }] }],
      lifetimesOmitted: 0,
      denied: [],
      deniedTotal: 0,
    });
    const merged = mergeIdenticalLanes([lane('linux', 3, 120e6), lane('linux-4', 5, 180e6), lane('nft', 9, 120e6)]);
    expect(merged.map((m) => m.profiles)).toEqual([['linux', 'nft'], ['linux-4']]);
  });
});
