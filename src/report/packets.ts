/**
 * One line per packet, for people (`tcpdump -nn -e` shape) and for machines (one JSON object per line).
 */
import { formatAddress } from '../address.js';
import type { DecodedPacket } from '../types.js';
import { formatIsoTimestamp, formatWallTimestamp } from './time.js';

/** The JSON shape of one packet (`udptrack packets --format json`). Field names are stable. */
export interface PacketJson {
  frame: number;
  ts: string;
  linktype: number;
  ifname?: string;
  dir?: 'in' | 'out';
  src?: string;
  dst?: string;
  proto?: number;
  sport?: number;
  dport?: number;
  len: number;
  caplen: number;
  fragment?: { id: number; offset: number; more: boolean; ports_from_first_fragment: boolean };
  icmp?: { type: number; code: number; quoted?: { src: string; sport: number; dst: string; dport: number } };
  pflog?: {
    action: string;
    reason: string;
    rule: number;
    subrule: number;
    anchor: string;
    ifname: string;
    dir: number;
    uid?: number;
    pid?: number;
  };
  nflog?: { group: number; prefix: string; hook: number; uid?: number; indev?: number; outdev?: number };
  process?: { name?: string; pid?: number; ename?: string; epid?: number };
  issue?: { kind: string; code: string; layer: string; offset: number; detail?: string };
}

/** Build the JSON record for a packet (allocates: only for packets being reported). */
export function buildPacketJson(pkt: DecodedPacket): PacketJson {
  const rec = pkt.record;
  const out: PacketJson = {
    frame: rec.frame,
    ts: formatIsoTimestamp(rec.tsSec, rec.tsNsec, rec.tsDigits),
    linktype: rec.linktype,
    len: rec.origLenBytes,
    caplen: rec.capLenBytes,
  };
  if (pkt.ifName !== undefined) out.ifname = pkt.ifName;
  if (pkt.direction !== 'unknown') out.dir = pkt.direction;
  if (pkt.ipVersion !== 0) {
    out.src = formatAddress(pkt.data, pkt.srcAddrOffset, pkt.ipVersion);
    out.dst = formatAddress(pkt.data, pkt.dstAddrOffset, pkt.ipVersion);
    out.proto = pkt.ipProto;
  }
  if (pkt.hasUdp) {
    out.sport = pkt.srcPort;
    out.dport = pkt.dstPort;
  }
  if (pkt.isFragment) {
    out.fragment = {
      id: pkt.fragmentId,
      offset: pkt.fragmentOffsetBytes,
      more: pkt.moreFragments,
      ports_from_first_fragment: pkt.portsFromFirstFragment,
    };
  }
  if (pkt.icmpType >= 0) {
    out.icmp = { type: pkt.icmpType, code: pkt.icmpCode };
    if (pkt.hasQuotedUdp && pkt.quotedIpVersion !== 0) {
      out.icmp.quoted = {
        src: formatAddress(pkt.data, pkt.quotedSrcAddrOffset, pkt.quotedIpVersion),
        sport: pkt.quotedSrcPort,
        dst: formatAddress(pkt.data, pkt.quotedDstAddrOffset, pkt.quotedIpVersion),
        dport: pkt.quotedDstPort,
      };
    }
  }
  const pf = pkt.pflog;
  if (pf !== undefined) {
    out.pflog = {
      action: pf.actionName,
      reason: pf.reasonName,
      rule: pf.ruleNumber,
      subrule: pf.subruleNumber,
      anchor: pf.ruleset,
      ifname: pf.ifName,
      dir: pf.dir,
    };
    if (pf.uid !== undefined) out.pflog.uid = pf.uid;
    if (pf.pid !== undefined) out.pflog.pid = pf.pid;
  }
  const nf = pkt.nflog;
  if (nf !== undefined) {
    out.nflog = { group: nf.group, prefix: nf.prefix, hook: nf.hook };
    if (nf.uid !== undefined) out.nflog.uid = nf.uid;
    if (nf.inIfIndex !== undefined) out.nflog.indev = nf.inIfIndex;
    if (nf.outIfIndex !== undefined) out.nflog.outdev = nf.outIfIndex;
  }
  const processName = pkt.pktap?.processName || rec.processName;
  const processId = pkt.pktap?.pid ?? rec.processId;
  const eName = pkt.pktap?.effectiveProcessName || rec.effectiveProcessName;
  const ePid = pkt.pktap?.effectivePid ?? rec.effectiveProcessId;
  if (processName || processId !== undefined) {
    out.process = {};
    if (processName) out.process.name = processName;
    if (processId !== undefined) out.process.pid = processId;
    if (eName) out.process.ename = eName;
    if (ePid !== undefined) out.process.epid = ePid;
  }
  if (pkt.issue !== null) {
    out.issue = { kind: pkt.issue.kind, code: pkt.issue.code, layer: pkt.issue.layer, offset: pkt.issue.offset };
    if (pkt.issue.detail !== undefined) out.issue.detail = pkt.issue.detail;
  }
  return out;
}

/**
 * One line like `tcpdump -nn -e -tttt` (UTC):
 * `2019-05-29 10:11:12.123456 en0 in rule 3/0(match): block 10.0.0.1.1194 > 192.168.1.5.51234: UDP, length 48`.
 */
export function renderPacketLine(pkt: DecodedPacket): string {
  const rec = pkt.record;
  let line = formatWallTimestamp(rec.tsSec, rec.tsNsec, rec.tsDigits);
  if (pkt.ifName) line += ` ${pkt.ifName}`;
  if (pkt.direction !== 'unknown') line += ` ${pkt.direction}`;
  const proc = pkt.pktap?.processName || rec.processName;
  if (proc) line += ` proc ${proc}:${pkt.pktap?.pid ?? rec.processId ?? '?'}`;
  const pf = pkt.pflog;
  if (pf !== undefined) {
    // tcpdump print-pflog.c: rule N[.anchor][.M]/reason: action; the default rule (-1) prints no number here.
    const rule = pf.ruleNumber < 0 ? 'def' : String(pf.ruleNumber);
    const anchor = pf.ruleset ? `.${pf.ruleset}` : '';
    const sub = pf.subruleNumber >= 0 ? `.${pf.subruleNumber}` : '';
    line += ` rule ${rule}${anchor}${sub}/${pf.reasonName}: ${pf.actionName}`;
  }
  const nf = pkt.nflog;
  if (nf !== undefined) line += ` nflog group ${nf.group}${nf.prefix ? ` prefix "${nf.prefix}"` : ''}`;
  if (pkt.ipVersion !== 0) {
    const src = formatAddress(pkt.data, pkt.srcAddrOffset, pkt.ipVersion);
    const dst = formatAddress(pkt.data, pkt.dstAddrOffset, pkt.ipVersion);
    if (pkt.hasUdp) {
      line += ` ${src}.${pkt.srcPort} > ${dst}.${pkt.dstPort}: UDP, length ${pkt.udpLenBytes >= 8 ? pkt.udpLenBytes - 8 : pkt.payloadLenBytes}`;
      if (pkt.portsFromFirstFragment) line += ` (frag ${pkt.fragmentId}:${pkt.fragmentOffsetBytes}${pkt.moreFragments ? '+' : ''})`;
    } else if (pkt.icmpType >= 0) {
      line += ` ${src} > ${dst}: ${pkt.ipVersion === 4 ? 'ICMP' : 'ICMP6'} type ${pkt.icmpType} code ${pkt.icmpCode}`;
      if (pkt.hasQuotedUdp && pkt.quotedIpVersion !== 0) {
        const qs = formatAddress(pkt.data, pkt.quotedSrcAddrOffset, pkt.quotedIpVersion);
        const qd = formatAddress(pkt.data, pkt.quotedDstAddrOffset, pkt.quotedIpVersion);
        line += ` quoting UDP ${qs}.${pkt.quotedSrcPort} > ${qd}.${pkt.quotedDstPort}`;
      }
    } else {
      line += ` ${src} > ${dst}: proto ${pkt.ipProto}`;
      if (pkt.isFragment) line += ` (frag ${pkt.fragmentId}:${pkt.fragmentOffsetBytes}${pkt.moreFragments ? '+' : ''})`;
    }
  }
  line += `, wire ${rec.origLenBytes}`;
  const issue = pkt.issue;
  if (issue !== null && !(issue.kind === 'unsupported' && issue.code === 'ip-proto-not-udp')) {
    line += ` [${issue.kind} ${issue.code} @${issue.offset}${issue.detail ? `: ${issue.detail}` : ''}]`;
  }
  return line;
}
