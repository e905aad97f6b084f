/**
 * In one replay, every table after the first reuses the first table's key of the packet (same local side) instead
 * of computing it again (simulate runs ten or more tables per packet). A table must see exactly what it sees when it
 * runs alone: same flows, same denials, on the fixtures and the VPN captures of the corpus.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../src/flow/profiles.js';
import { replayCapture } from '../../src/pipeline/replay.js';
import { buildDenialJson, flowJsonText } from '../../src/report/flows.js';
import { CORPUS_DIR, REPO_ROOT } from '../helpers/cli.js';

const files = [
  join(REPO_ROOT, 'fixtures/pcap/openvpn-idle.pcap'),
  join(REPO_ROOT, 'fixtures/pcap/icmp-errors.pcap'),
  join(REPO_ROOT, 'fixtures/pflog/macos-sleep.pcap'),
  ...(existsSync(join(CORPUS_DIR, 'vpn')) ? readdirSync(join(CORPUS_DIR, 'vpn')).map((f) => join(CORPUS_DIR, 'vpn', f)) : []),
];

async function run(file: string, profiles: string[], watch: number): Promise<string[]> {
  const out: string[] = [];
  await replayCapture(file, {
    profiles: profiles.map((name) => getProfile(name)),
    events: {
      onFlowEnd: (index, flow) => {
        if (index === watch) out.push(flowJsonText(flow));
      },
      onDenial: (index, denial) => {
        if (index === watch) out.push(JSON.stringify(buildDenialJson(denial)));
      },
    },
  });
  return out;
}

describe('tables sharing a packet key see what they see alone', () => {
  for (const file of files) {
    it(relative(REPO_ROOT, file), async () => {
      const alone = await run(file, ['linux'], 0);
      const shared = await run(file, ['pf', 'zeek', 'linux'], 2);
      expect(shared).toEqual(alone);
      // The fixtures all have UDP flows; two corpus VPN captures are OpenVPN over TCP (nothing to compare).
      if (file.startsWith(join(REPO_ROOT, 'fixtures'))) expect(alone.length).toBeGreaterThan(0);
    });
  }
});
