/**
 * decodePflog / decodeOldPflog: every flavour by header length, per-flavour names, host-order uid/pid, invalid
 * lengths, truncation sweeps.
 */
import { describe, expect, it } from 'vitest';
import {
  decodeOldPflog,
  decodePflog,
  pflogActionName,
  pflogReasonName,
} from '../../../src/decode/link/pflog.js';
import { concat, hex, IPV4_UDP_SAMPLE, IPV6_UDP_SAMPLE, makePacket, sweepPrefixes } from '../../helpers/bytes.js';

/** A NUL-padded 16-byte name field. */
function name16(text: string): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < text.length && i < 16; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** length af action reason | ifname | ruleset | rulenr subrulenr (BE) | uid pid rule_uid rule_pid (host) | dir + tail */
function pflogHeader(
  lead: string, ifName: string, ruleset: string, rules: string, hostFields: string, dirAndTail: string,
): Uint8Array {
  return concat(hex(lead), name16(ifName), name16(ruleset), hex(rules), hex(hostFields), hex(dirAndTail));
}

// macOS, little-endian host, 61-byte header (payload at 64); uid UID_MAX 0x7FFFFFFF and pid NO_PID 100000.
// tcpdump -nn -e: rule 7/0(match): block in on en0: 192.0.2.1.5000 > 198.51.100.2.1194: UDP, length 4
const DARWIN_BLOCK_IN_V4 = concat(
  pflogHeader('3d 02 01 00', 'en0', '', '00000007 ffffffff', 'ffffff7f a0860100 00000000 d2040000', '01 000000'),
  IPV4_UDP_SAMPLE);

// macOS, inside anchor "com.apple" (rule 12, subrule 3), `log (user)`: uid 501, pid 812, little-endian.
// tcpdump -nn -e: rule 12.com.apple.3/0(match): pass out on utun4: 2001:db8::1.5000 > 2001:db8::2.1194: UDP, length 4
const DARWIN_PASS_OUT_V6 = concat(
  pflogHeader('3d 1e 00 00', 'utun4', 'com.apple', '0000000c 00000003', 'f5010000 2c030000 00000000 d2040000', '02 000000'),
  IPV6_UDP_SAMPLE);

// FreeBSD, 69-byte header (payload at 72), action 12 = match, ridentifier 77.
// tcpdump 4.99.3 -nn -e: rule 4/0(match): unkn(12) in on vtnet0: 192.0.2.1.5000 > 198.51.100.2.1194: UDP, length 4
// (4.99.3's FreeBSD action table stops at 11; current tcpdump and formats.md §4.4 name 12 "match".)
const FREEBSD_MATCH_IN_V4 = concat(
  pflogHeader('45 02 0c 00', 'vtnet0', '', '00000004 ffffffff', 'ffffffff a0860100 00000000 01000000',
    '01 000000 0000004d 00 000000'),
  IPV4_UDP_SAMPLE);

// OpenBSD >= 4.9, 100-byte header, AF_INET6 = 24, not rewritten.
// tcpdump -nn -e: rule 5/0(match): block in on vio0: 2001:db8::1.5000 > 2001:db8::2.1194: UDP, length 4
const OPENBSD_BLOCK_IN_V6 = concat(
  pflogHeader('64 18 01 00', 'vio0', '', '00000005 ffffffff', 'ffffffff a0860100 00000000 d9080000',
    `01 00 18 00 ${'00'.repeat(32)} 0000 0000`),
  IPV6_UDP_SAMPLE);

// A big-endian logging host (PowerPC Mac era): uid 501 and pid 812 in big-endian.
// tcpdump -nn -e: rule 2/0(match): block out on en1: 192.0.2.1.5000 > 198.51.100.2.1194: UDP, length 4
const BE_HOST_BLOCK_OUT_V4 = concat(
  pflogHeader('3d 02 01 00', 'en1', '', '00000002 ffffffff', '000001f5 0000032c 00000000 00000064', '02 000000'),
  IPV4_UDP_SAMPLE);

// OpenBSD 3.4–3.7, 45-byte header without uid/pid: dir at 44, payload at 48.
// tcpdump 4.99.3 -nn -e: rule 9/0(match): block unkn(192) on fxp0: 192.0.2.1.5000 > … (it reads dir at offset 60,
// inside the IP header; formats.md §4.2 puts it at 44).
const OLD45_BLOCK_IN_V4 = concat(
  concat(hex('2d 02 01 00'), name16('fxp0'), name16(''), hex('00000009 ffffffff 01 000000')),
  IPV4_UDP_SAMPLE);

// LINKTYPE 17, OpenBSD < 3.4: af BE | ifname | rnr i16 | reason | action | dir (0 in, 1 out); payload at 28.
// (tcpdump 4.99.3 has no printer for linktype 17; layout per formats.md §4.9 / Wireshark dissect_old_pflog.)
const OLD_PFLOG_BLOCK_IN_V4 = concat(hex('00000002'), name16('le0'), hex('0003 0000 0001 0000'), IPV4_UDP_SAMPLE);

describe('decodePflog', () => {
  it('decodes a macOS 61-byte header with UID_MAX / NO_PID', () => {
    const pkt = makePacket(DARWIN_BLOCK_IN_V4, { guard: true });
    expect(decodePflog(pkt, 0)).toBe(64);
    expect(pkt.nextEtherType).toBe(0x0800);
    expect(pkt.direction).toBe('in');
    expect(pkt.ifName).toBe('en0');
    expect(pkt.pflog).toEqual({
      headerLenBytes: 61,
      flavour: 'darwin',
      addressFamily: 2,
      action: 1,
      actionName: 'block',
      reason: 0,
      reasonName: 'match',
      ifName: 'en0',
      ruleset: '',
      ruleNumber: 7,
      subruleNumber: -1,
      uid: undefined,
      pid: undefined,
      dir: 1,
    });
  });

  it('decodes an anchor rule with a socket owner (little-endian host)', () => {
    const pkt = makePacket(DARWIN_PASS_OUT_V6, { guard: true });
    expect(decodePflog(pkt, 0)).toBe(64);
    expect(pkt.nextEtherType).toBe(0x86dd);
    expect(pkt.direction).toBe('out');
    expect(pkt.pflog).toMatchObject({
      addressFamily: 30, actionName: 'pass', ruleset: 'com.apple', ruleNumber: 12, subruleNumber: 3, uid: 501, pid: 812, dir: 2,
    });
  });

  it('decodes a FreeBSD 69-byte header (payload at 72)', () => {
    const pkt = makePacket(FREEBSD_MATCH_IN_V4, { guard: true });
    expect(decodePflog(pkt, 0)).toBe(72);
    expect(pkt.nextEtherType).toBe(0x0800);
    expect(pkt.pflog).toMatchObject({
      headerLenBytes: 69, flavour: 'freebsd', action: 12, actionName: 'match', ifName: 'vtnet0', ruleNumber: 4,
      subruleNumber: -1, uid: undefined, pid: undefined, dir: 1,
    });
  });

  it('decodes an OpenBSD 100-byte header', () => {
    const pkt = makePacket(OPENBSD_BLOCK_IN_V6, { guard: true });
    expect(decodePflog(pkt, 0)).toBe(100);
    expect(pkt.nextEtherType).toBe(0x86dd);
    expect(pkt.direction).toBe('in');
    expect(pkt.pflog).toMatchObject({
      headerLenBytes: 100, flavour: 'openbsd', addressFamily: 24, actionName: 'block', reasonName: 'match',
      ifName: 'vio0', ruleNumber: 5, subruleNumber: -1, uid: undefined, pid: undefined,
    });
  });

  it('reads uid/pid of a big-endian host in big-endian', () => {
    const pkt = makePacket(BE_HOST_BLOCK_OUT_V4, { guard: true });
    expect(decodePflog(pkt, 0)).toBe(64);
    expect(pkt.pflog).toMatchObject({ uid: 501, pid: 812, ruleNumber: 2, dir: 2 });
    expect(pkt.direction).toBe('out');
  });

  it('decodes the OpenBSD 3.4–3.7 45-byte layout (dir at 44, no uid/pid)', () => {
    const pkt = makePacket(OLD45_BLOCK_IN_V4, { guard: true });
    expect(decodePflog(pkt, 0)).toBe(48);
    expect(pkt.nextEtherType).toBe(0x0800);
    expect(pkt.direction).toBe('in');
    expect(pkt.pflog).toMatchObject({
      headerLenBytes: 45, flavour: 'old-openbsd', actionName: 'block', ifName: 'fxp0', ruleNumber: 9,
      subruleNumber: -1, uid: undefined, pid: undefined, dir: 1,
    });
  });

  it('prints rule number -1 for the default rule', () => {
    const bytes = DARWIN_BLOCK_IN_V4.slice();
    bytes.set([0xff, 0xff, 0xff, 0xff], 36);
    const pkt = makePacket(bytes, { guard: true });
    expect(decodePflog(pkt, 0)).toBe(64);
    expect(pkt.pflog?.ruleNumber).toBe(-1);
  });

  it('keeps rule numbers above 2^31 unsigned (NetBSD npf rule ids); only 0xFFFFFFFF is -1', () => {
    const bytes = DARWIN_BLOCK_IN_V4.slice();
    bytes.set([0x80, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff, 0xfe], 36);
    const pkt = makePacket(bytes, { guard: true });
    expect(decodePflog(pkt, 0)).toBe(64);
    expect(pkt.pflog).toMatchObject({ ruleNumber: 0x80000001, subruleNumber: 0xfffffffe });
  });

  it('reads a 16-character interface name that has no NUL', () => {
    const bytes = DARWIN_BLOCK_IN_V4.slice();
    bytes.set(name16('abcdefghijklmnop'), 4);
    const pkt = makePacket(bytes, { guard: true });
    expect(decodePflog(pkt, 0)).toBe(64);
    expect(pkt.pflog?.ifName).toBe('abcdefghijklmnop');
    expect(pkt.ifName).toBe('abcdefghijklmnop');
  });

  it('reports an unknown address family as unsupported but keeps the header', () => {
    const bytes = DARWIN_BLOCK_IN_V4.slice();
    bytes[1] = 7;
    const pkt = makePacket(bytes, { guard: true });
    expect(decodePflog(pkt, 0)).toBe(-1);
    expect(pkt.issue).toMatchObject({ kind: 'unsupported', code: 'pflog-unknown-family', layer: 'pflog', offset: 1 });
    expect(pkt.pflog?.actionName).toBe('block');
  });

  it.each([10, 44, 46, 60, 101, 120, 255])('refuses header length %i as invalid', (length) => {
    const bytes = DARWIN_BLOCK_IN_V4.slice();
    bytes[0] = length;
    const pkt = makePacket(bytes, { guard: true });
    expect(decodePflog(pkt, 0)).toBe(-1);
    expect(pkt.issue).toMatchObject({ kind: 'invalid', code: 'pflog-hdrlen-out-of-range', layer: 'pflog', offset: 0 });
    expect(pkt.pflog).toBeUndefined();
  });

  it('calls a header longer than the packet on the wire invalid, not truncated', () => {
    // 100-byte header claimed, but the whole packet (caplen = len) is 80 bytes.
    const pkt = makePacket(OPENBSD_BLOCK_IN_V6.subarray(0, 80), { guard: true });
    expect(decodePflog(pkt, 0)).toBe(-1);
    expect(pkt.issue).toMatchObject({ kind: 'invalid', code: 'pflog-hdrlen-past-packet' });
  });

  it('names codes per flavour and unknown codes as unknown(N)', () => {
    expect(pflogActionName('darwin', 11)).toBe('dummynet');
    expect(pflogActionName('darwin', 14)).toBe('nonat64');
    expect(pflogActionName('openbsd', 13)).toBe('divert');
    expect(pflogActionName('openbsd', 15)).toBe('afrt');
    expect(pflogActionName('freebsd', 11)).toBe('defer');
    expect(pflogActionName('freebsd', 13)).toBe('unknown(13)');
    expect(pflogActionName('old-openbsd', 11)).toBe('unknown(11)');
    expect(pflogReasonName('freebsd', 15)).toBe('map-failed');
    expect(pflogReasonName('openbsd', 15)).toBe('translate');
    expect(pflogReasonName('openbsd', 16)).toBe('no-route');
    expect(pflogReasonName('darwin', 15)).toBe('dummynet');
    expect(pflogReasonName('darwin', 16)).toBe('invalid-port');
    expect(pflogReasonName('freebsd', 16)).toBe('unknown(16)');
    expect(pflogReasonName('darwin', 255)).toBe('unknown(255)');
  });

  describe('truncation sweep', () => {
    it.each([
      ['darwin', DARWIN_BLOCK_IN_V4, 64],
      ['freebsd', FREEBSD_MATCH_IN_V4, 72],
      ['openbsd', OPENBSD_BLOCK_IN_V6, 100],
      ['old-openbsd', OLD45_BLOCK_IN_V4, 48],
    ])('%s: every prefix shorter than the rounded header is truncated', (_name, good, payloadAt) => {
      for (const o of sweepPrefixes(decodePflog, good, payloadAt)) {
        expect(o.thrown, `prefix ${o.n}`).toBeUndefined();
        expect(o.result, `prefix ${o.n}`).toBe(-1);
        expect(o.pkt.issue, `prefix ${o.n}`).toMatchObject({ kind: 'truncated', code: 'pflog-truncated', availableBytes: o.n });
      }
      expect(decodePflog(makePacket(good.subarray(0, payloadAt), { origLen: good.length }), 0)).toBe(payloadAt);
    });
  });
});

describe('decodeOldPflog (LINKTYPE 17)', () => {
  it('decodes the 28-byte header and maps dir to the current meaning', () => {
    const pkt = makePacket(OLD_PFLOG_BLOCK_IN_V4, { guard: true });
    expect(decodeOldPflog(pkt, 0)).toBe(28);
    expect(pkt.nextEtherType).toBe(0x0800);
    expect(pkt.direction).toBe('in');
    expect(pkt.ifName).toBe('le0');
    expect(pkt.pflog).toMatchObject({
      headerLenBytes: 28, flavour: 'old-openbsd', addressFamily: 2, action: 1, actionName: 'block', reason: 0,
      reasonName: 'match', ifName: 'le0', ruleset: '', ruleNumber: 3, subruleNumber: -1, dir: 1,
    });
  });

  it('sign-extends rule number 0xFFFF to -1 and maps old dir 1 to out', () => {
    const bytes = OLD_PFLOG_BLOCK_IN_V4.slice();
    bytes.set([0xff, 0xff], 20);
    bytes[27] = 1;
    const pkt = makePacket(bytes, { guard: true });
    expect(decodeOldPflog(pkt, 0)).toBe(28);
    expect(pkt.pflog).toMatchObject({ ruleNumber: -1, dir: 2 });
    expect(pkt.direction).toBe('out');
  });

  it('truncation sweep', () => {
    for (const o of sweepPrefixes(decodeOldPflog, OLD_PFLOG_BLOCK_IN_V4, 28)) {
      expect(o.thrown).toBeUndefined();
      expect(o.result).toBe(-1);
      expect(o.pkt.issue).toMatchObject({ kind: 'truncated', code: 'pflog-truncated' });
    }
  });
});
