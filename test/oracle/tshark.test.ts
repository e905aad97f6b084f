/**
 * Oracle: for every corpus file tshark reads, every packet whose outermost IP layer carries UDP has the same frame
 * number, addresses and ports in `udptrack packets --format json` as in tshark (IP reassembly off, so non-first
 * fragments stay fragments; udptrack lends them their first fragment's ports and says so, which tshark does not).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORPUS_DIR, hasCommand, runCliCaptured } from '../helpers/cli.js';

interface UdpTuple {
  frame: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

function listCaptures(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return listCaptures(path);
    return /\.(pcap|pcapng|snoop)$/.test(name) ? [path] : [];
  });
}

/** tshark's view: frames whose outermost IP header is followed (after IPv6 extension headers) by UDP. */
function tsharkUdp(file: string): { tuples: UdpTuple[]; frames: number } | undefined {
  const result = spawnSync(
    'tshark',
    [
      '-n', '-r', file,
      '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE',
      '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=f',
      '-e', 'frame.number', '-e', 'frame.encap_type', '-e', 'frame.protocols', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'ipv6.src', '-e', 'ipv6.dst',
      '-e', 'udp.srcport', '-e', 'udp.dstport',
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (result.stdout.trim() === '') return undefined; // tshark could not read it
  const tuples: UdpTuple[] = [];
  let frames = 0;
  for (const line of result.stdout.split('\n')) {
    if (line === '') continue;
    const [, encap, protocols, ipSrc, ipDst, ip6Src, ip6Dst, sport, dport] = line.split('\t');
    // tshark (4.x) also numbers pcapng blocks that are not packets (custom blocks: no encapsulation); udptrack's
    // frame is the packet record's ordinal, so count packet records only.
    if (!encap) continue;
    const frame = ++frames;
    const layers = (protocols ?? '').split(':');
    const ipIndex = layers.findIndex((l) => l === 'ip' || l === 'ipv6');
    if (ipIndex < 0) continue;
    let next = ipIndex + 1;
    while (layers[next]?.startsWith('ipv6.')) next++;
    if (layers[next] !== 'udp' || !sport || !dport) continue;
    const v4 = layers[ipIndex] === 'ip';
    tuples.push({ frame, src: (v4 ? ipSrc : ip6Src) ?? '', dst: (v4 ? ipDst : ip6Dst) ?? '', sport: Number(sport), dport: Number(dport) });
  }
  return { tuples, frames };
}

const haveTshark = hasCommand('tshark');
const haveCorpus = existsSync(CORPUS_DIR);

describe.skipIf(!haveTshark || !haveCorpus)('packets --format json agrees with tshark on the corpus', () => {
  const files = haveCorpus ? listCaptures(CORPUS_DIR) : [];
  let compared = 0;

  for (const file of files) {
    it(relative(CORPUS_DIR, file), async () => {
      const theirs = tsharkUdp(file);
      if (theirs === undefined) return; // tshark refuses it: nothing to compare (the corpus test covers it)
      const run = await runCliCaptured(['packets', '--format', 'json', file]);
      const ours: UdpTuple[] = [];
      let ourFrames = 0;
      for (const line of run.stdout.split('\n')) {
        if (line === '') continue;
        const p = JSON.parse(line) as { frame: number; src?: string; dst?: string; proto?: number; sport?: number; dport?: number; fragment?: { ports_from_first_fragment: boolean } };
        ourFrames = Math.max(ourFrames, p.frame);
        if (p.proto !== 17 || p.sport === undefined || p.dport === undefined) continue;
        if (p.fragment?.ports_from_first_fragment) continue;
        ours.push({ frame: p.frame, src: p.src ?? '', dst: p.dst ?? '', sport: p.sport, dport: p.dport });
      }
      // A damaged file: compare the frames both read.
      const lastFrame = Math.min(ourFrames, theirs.frames);
      expect(ours.filter((t) => t.frame <= lastFrame)).toEqual(theirs.tuples.filter((t) => t.frame <= lastFrame));
      if (theirs.tuples.length > 0) compared++;
    });
  }

  it('compared UDP packets in many files', () => {
    expect(compared).toBeGreaterThan(40);
  });
});

describe.skipIf(haveTshark && haveCorpus)('tshark oracle unavailable', () => {
  it('says why it skipped', () => {
    console.warn(`tshark oracle skipped: ${!haveTshark ? 'tshark is not installed (apt-get install tshark)' : `no corpus at ${CORPUS_DIR}`}`);
  });
});
