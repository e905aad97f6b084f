/**
 * `rules`: read every record of a denial log (UDP, ICMPv6 neighbour discovery, TCP … — not only what explain
 * explains), let explain give its verdict on the UDP denials, and hand both to the kill-switch advisor; with a
 * pf.conf, check that rule set against the same log.
 */
import { readFileSync } from 'node:fs';
import { formatAddress } from '../address.js';
import { readCapture } from '../capture/index.js';
import { adviseKillSwitch, type KillSwitchAdvice, type LoggedPacket } from '../classify/kill-switch.js';
import { checkPfRuleset, type PfCheck } from '../classify/pf-check.js';
import { guessService } from '../decode/app/fingerprint.js';
import { PacketDecoder } from '../decode/packet.js';
import type { TimeoutProfile } from '../flow/profiles.js';
import { PfSyntaxError, parsePfConf } from '../policy/pf-parse.js';
import type { PfRuleset } from '../policy/pf-model.js';
import type { DecodedPacket } from '../types.js';
import { explainInputs, isLoggedDenial, sniffLittleSnitchCsv } from './explain.js';
import { RulesInputError } from './rules-error.js';
import type { InputDamageJson } from '../report/stats.js';

export { RulesInputError } from './rules-error.js';

/** Options of `rules`. */
export interface RulesOptions {
  deniedFile: string;
  captureFile?: string | undefined;
  profile: TimeoutProfile;
  profileGiven: boolean;
  localNetworks?: readonly string[] | undefined;
  denyPrefix?: string | undefined;
  allowBroad: boolean;
}

/** The advice and what it rests on. */
export interface RulesResult {
  advice: KillSwitchAdvice;
  records: LoggedPacket[];
  /** Log records that did not decode to an IP packet. */
  undecodable: number;
  /** Inputs that stopped being readable before their end (explain.ts ExplainResult.damage); empty if none. */
  damage: InputDamageJson[];
}

/** A pf.conf checked against the log. */
export interface CheckResult extends RulesResult {
  ruleset: PfRuleset;
  check: PfCheck;
}

/** TCP header: ports at 0 and 2, flags at 13 (RFC 9293 §3.1). */
const TCP_FLAGS_OFFSET = 13;

function factsOf(pkt: DecodedPacket, denyPrefix: string | undefined): LoggedPacket | undefined {
  if (pkt.ipVersion === 0) return undefined;
  const af = pkt.ipVersion;
  const record = pkt.record;
  let sport: number | undefined;
  let dport: number | undefined;
  let tcpFlags: number | undefined;
  let service = '';
  if (pkt.ipProto === 17 && pkt.hasUdp) {
    sport = pkt.srcPort;
    dport = pkt.dstPort;
    service = guessService(pkt.data, pkt.payloadOffset, pkt.payloadLenBytes, pkt.srcPort, pkt.dstPort).service;
  } else if (pkt.ipProto === 6 && pkt.issue?.code === 'ip-proto-not-udp') {
    // The decoder stops at a non-UDP transport and records where it starts (counted from the frame's first byte,
    // while pkt.data is the reader's buffer holding the frame at dataStart): read TCP's ports and flags there.
    const at = pkt.dataStart + pkt.issue.offset;
    if (at + 4 <= pkt.dataEnd) {
      sport = (pkt.data[at]! << 8) | pkt.data[at + 1]!;
      dport = (pkt.data[at + 2]! << 8) | pkt.data[at + 3]!;
    }
    if (at + TCP_FLAGS_OFFSET < pkt.dataEnd) tcpFlags = pkt.data[at + TCP_FLAGS_OFFSET]!;
  }
  const icmp = (pkt.ipProto === 1 || pkt.ipProto === 58) && pkt.icmpType >= 0;
  return {
    frame: record.frame,
    tsUs: record.tsSec * 1_000_000 + Math.floor(record.tsNsec / 1000),
    denied: isLoggedDenial(pkt, denyPrefix),
    service,
    ifName: pkt.ifName,
    direction: pkt.direction,
    af,
    proto: pkt.ipProto,
    src: formatAddress(pkt.data, pkt.srcAddrOffset, af),
    dst: formatAddress(pkt.data, pkt.dstAddrOffset, af),
    sport,
    dport,
    icmpType: icmp ? pkt.icmpType : undefined,
    icmpCode: icmp ? pkt.icmpCode : undefined,
    tcpFlags,
  };
}

/** Every record of a denial log as facts a rule can match; pass records are kept (they name the live interfaces). */
export async function readLoggedPackets(file: string, denyPrefix?: string): Promise<{ records: LoggedPacket[]; undecodable: number }> {
  if (sniffLittleSnitchCsv(file)) {
    throw new RulesInputError(`${file}: a Little Snitch traffic log names processes, not interfaces or rules; rules needs a pflog or NFLOG capture (sudo tcpdump -i pflog0 -w pflog.pcap)`);
  }
  const decoder = new PacketDecoder();
  const records: LoggedPacket[] = [];
  let undecodable = 0;
  await readCapture(file, (record) => {
    const facts = factsOf(decoder.decode(record), denyPrefix);
    if (facts === undefined) undecodable++;
    else records.push(facts);
  });
  return { records, undecodable };
}

/** The advice for a denial log. */
export async function adviseRules(options: RulesOptions): Promise<RulesResult> {
  const { records, undecodable } = await readLoggedPackets(options.deniedFile, options.denyPrefix);
  const explained = await explainInputs({
    deniedFile: options.deniedFile,
    captureFile: options.captureFile,
    profile: options.profile,
    profileGiven: options.profileGiven,
    localNetworks: options.localNetworks,
    denyPrefix: options.denyPrefix,
  });
  const advice = adviseKillSwitch(records, explained.explanations, { allowBroad: options.allowBroad });
  return { advice, records, undecodable, damage: explained.damage };
}

/** Read and parse a pf.conf; a syntax error becomes `FILE:LINE: what was expected`. */
export function readPfConf(path: string): PfRuleset {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new RulesInputError(`${path}: cannot read (${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (code ?? 'error')})`);
  }
  try {
    return parsePfConf(text);
  } catch (error) {
    if (error instanceof PfSyntaxError) throw new RulesInputError(`${path}:${error.line}: ${error.detail}`);
    throw error;
  }
}

/** Check a pf.conf against a denial log. */
export async function checkRules(confFile: string, options: Omit<RulesOptions, 'allowBroad'>): Promise<CheckResult> {
  // Parse first: a broken pf.conf should fail before the log is read.
  const ruleset = readPfConf(confFile);
  const result = await adviseRules({ ...options, allowBroad: false });
  return { ...result, ruleset, check: checkPfRuleset(ruleset, result.advice, result.records) };
}
