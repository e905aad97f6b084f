/**
 * Little Snitch inputs (formats.md §8, behaviour.md §4): the text of an "incoming connection … cannot be delayed"
 * alert, ranked into the project's stray-inbound-UDP causes (behaviour.md §7(a)) with the commands that would
 * confirm each one, and the CSV that `littlesnitch log-traffic` prints.
 *
 * Why a user arrives here with nothing but an alert: Little Snitch stalls outgoing connections and incoming TCP
 * while it asks, but it cannot hold back connectionless data (UDP, ICMP), so an incoming datagram no rule covers is
 * denied at once and the user only sees a notification (LS5 Help "Incoming connections"). For a UDP client such as
 * `openvpn` that means Little Snitch treated the server's datagrams as a new incoming connection — after an idle
 * gap, or because the client's side of the flow was gone. The exact wording of these alerts is not published by
 * Objective Development (formats.md §8, UNCONFIRMED), so the parser accepts a family of wordings rather than one
 * sentence; fixtures/little-snitch/ holds the variants it is tested with (listed in fixtures/README.md).
 */
import { createRequire } from 'node:module';
import { buildLsrules } from './lsrules.js';
import { LittleSnitchParseError } from './little-snitch-error.js';

const require = createRequire(import.meta.url);
let net: typeof import('node:net') | undefined;
/**
 * node:net's isIP, with node:net loaded at the first alert rather than when the CLI starts: importing it loads
 * Node's sockets and streams, ~5 ms of every run's start-up, and only Little Snitch alerts need it (issue 7).
 */
function isIP(text: string): number {
  return (net ??= require('node:net') as typeof import('node:net')).isIP(text);
}

export { LittleSnitchParseError } from './little-snitch-error.js';

// ---------------------------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------------------------

/** What a Little Snitch alert says, whatever its wording. */
export interface LittleSnitchAlert {
  /** ISO date `YYYY-MM-DD` when the text carries one (`On 29 May 2019, …`), else null. */
  date: string | null;
  /** The other side: a host name (lower-cased, DNS names are case-insensitive) or an IP address, without port. */
  remote: string;
  /** The local process as Little Snitch named it (`openvpn`, or a full path when the text has one). */
  process: string;
  direction: 'incoming' | 'outgoing';
  /**
   * The protocol the text names (`via UDP port 1194`, `incoming UDP connection`). When it names none but says the
   * connection "cannot be delayed", the data was connectionless (UDP or ICMP, formats.md §8): `icmp` for ping-like
   * tools (ping, ping6, traceroute, traceroute6, mtr, mtr-packet), `udp` for every other process, openvpn included.
   * Otherwise `unknown`.
   */
  protocol: 'udp' | 'tcp' | 'icmp' | 'unknown';
  /** Whether the text says the connection "cannot be delayed" (Little Snitch denied it without asking). */
  cannotBeDelayed: boolean;
}

/** Which family of wordings matched (see {@link parseLittleSnitchAlertDetails}). */
export type AlertWording =
  | 'ls4-sentence'
  | 'notification'
  | 'incoming-from-to'
  | 'outgoing-sentence'
  | 'outgoing-from-to';

/** The alert plus what some wordings add; {@link parseLittleSnitchAlert} returns only the {@link LittleSnitchAlert} part. */
export interface LittleSnitchAlertDetails extends LittleSnitchAlert {
  /** Port named in the text (`via UDP port 1194`, `198.51.100.7:1194`), else null. */
  port: number | null;
  /** The IP address when `remote` is one, or when the text gives it in parentheses after the name. */
  remoteAddress: string | null;
  /** The parent application after "via" (`openvpn via Tunnelblick`), else null. */
  via: string | null;
  wording: AlertWording;
}


/** One ranked explanation of an alert. */
export interface AlertCause {
  /** Stable kebab-case cause name shared with the capture classifier (behaviour.md §7(a)), or {@link NOT_STRAY_INBOUND}. */
  cause: string;
  likelihood: 'high' | 'medium' | 'low';
  /** One or two sentences: why this cause fits the alert, citing behaviour.md. */
  why: string;
  /**
   * Exact commands to run on the Mac whose output settles it (most end in `udptrack explain …`). `$OPENVPN_LOG` and
   * `$OPENVPN_CONFIG` stand for the client's log file and configuration; Tunnelblick keeps its OpenVPN logs in
   * /Library/Application Support/Tunnelblick/Logs/ (UNCONFIRMED).
   */
  confirm: string[];
  /** Settings and rules that stop it from happening, or make it harmless. */
  remedy: string[];
}

/**
 * Marker cause for alerts that are not about stray inbound UDP at all (an outgoing connection alert). It is not one
 * of the capture classifier's causes: it says "none of them applies", so a report can print the alert without a
 * misleading explanation.
 */
export const NOT_STRAY_INBOUND = 'not-stray-inbound';

/** One row of `littlesnitch log-traffic` (formats.md §8; semantics per third-party parsers, UNCONFIRMED by OD). */
export interface LittleSnitchTrafficRow {
  /** 1-based line of the CSV where the row starts. */
  line: number;
  /** The row's time as ISO-8601 UTC (`2019-05-29T14:03:12Z`); fractions kept to at most 6 digits. */
  date: string;
  /** The same time in microseconds since the Unix epoch (the project's internal time unit). */
  tsUs: number;
  direction: 'in' | 'out';
  /** null when the column is empty. */
  uid: number | null;
  /** Lower-cased; '' when empty. */
  ipAddress: string;
  /** '' when empty (often). */
  remoteHostname: string;
  /** IP protocol number: 17 UDP, 6 TCP, 1 ICMP, 58 ICMPv6. */
  protocol: number;
  /** Remote port for `out` rows, local port for `in` rows (formats.md §8); null when empty (ICMP). */
  port: number | null;
  connectCount: number;
  /** > 0 on a denied flow. */
  denyCount: number;
  byteCountIn: number;
  byteCountOut: number;
  /** `connectingExecutable`: full path of the process. */
  executable: string;
  /** `parentAppExecutable`: the app bundle, '' for daemons. */
  parentApp: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Alert text: normalisation
// ---------------------------------------------------------------------------------------------------------------

/** Longer text than this is a document, not a notification; refusing it also bounds the regex work. */
const MAX_ALERT_CHARS = 10_000;

const EXPECTED =
  'expected "<remote> tried to establish an incoming connection to <process>" (Little Snitch 4–6 wording)';

/**
 * Make wordings comparable: one kind of double quote, single quotes used as quotes turned into double quotes,
 * dashes as ` - `, and all whitespace (no-break spaces, line breaks) as single spaces. In `separator` mode a line
 * break becomes ` - ` too, so that a notification's title line ("Connection Denied") stays apart from its body;
 * the parser tries every wording on both forms, `space` mode being what reads sentences wrapped across lines.
 */
function normalise(text: string, lineBreaks: 'separator' | 'space'): string {
  let t = text.replace(/[\u200b-\u200d\ufeff]/g, '').replace(/[\u00a0\u2007\u202f\t]/g, ' ');
  t = t.replace(/[“”„‟«»‹›〝〞＂]/g, '"');
  // A single quote at a word edge is a quotation mark (‘openvpn’, 'openvpn'); inside a word it is an apostrophe.
  t = t.replace(/(^|[\s([])[‘’‚‛'`]/g, '$1"').replace(/[‘’‚‛'`](?=$|[\s.,;:!?)\]])/g, '"').replace(/[‘’‛`]/g, "'");
  t = t.replace(/\s*[—–―‒−]\s*|\s+--\s+/g, ' - ');
  if (lineBreaks === 'separator') t = t.replace(/[ ]*(?:\r\n|\r|\n)(?:\s*(?:\r\n|\r|\n))*[ ]*/g, ' - ');
  return t.replace(/\s+/g, ' ').trim();
}

// ---------------------------------------------------------------------------------------------------------------
// Alert text: dates
// ---------------------------------------------------------------------------------------------------------------

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] as const;
const MONTH = 'jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?';
const WEEKDAY = '(?:(?:mon|tue(?:s)?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\\.?,?\\s+)?';
const BEFORE = '(?<![\\w.:/-])';
const AFTER = '(?![\\w/-]|[.:]\\w)';
/** "On …", weekday, the date, then an optional time of day ("at 14:03:12", "2:03 PM") and comma. */
const TIME = '(?:,?\\s*(?:at\\s+)?\\d{1,2}:\\d{2}(?::\\d{2})?(?:\\s*[ap]\\.?m\\.?)?)?\\s*,?';

/** Date shapes accepted in alerts; named groups y/m/d, mon (month name) or a/b (slash order to be decided). */
const DATE_PATTERNS: readonly RegExp[] = [
  `(?<y>\\d{4})-(?<m>\\d{1,2})-(?<d>\\d{1,2})(?:T\\d{2}:\\d{2}(?::\\d{2}(?:\\.\\d+)?)?(?:Z|[+-]\\d{2}:?\\d{2})?)?`,
  `(?<y>\\d{4})/(?<m>\\d{1,2})/(?<d>\\d{1,2})`,
  `(?<d>\\d{1,2})\\.\\s?(?<m>\\d{1,2})\\.\\s?(?<y>\\d{4})`,
  `(?<d>\\d{1,2})(?:st|nd|rd|th)?\\.?\\s+(?:of\\s+)?(?<mon>${MONTH})\\.?,?\\s+(?<y>\\d{4})`,
  `(?<mon>${MONTH})\\.?\\s+(?<d>\\d{1,2})(?:st|nd|rd|th)?,?\\s+(?<y>\\d{4})`,
  `(?<a>\\d{1,2})/(?<b>\\d{1,2})/(?<y>\\d{4})`,
].map((core) => new RegExp(`(?:\\bon\\s+)?${WEEKDAY}${BEFORE}(?:${core})${AFTER}${TIME}`, 'i'));

interface FoundDate {
  iso: string | null;
  start: number;
  end: number;
}

function isoDate(y: number, m: number, d: number): string | null {
  if (m < 1 || m > 12 || d < 1) return null;
  const ms = Date.UTC(y, m - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== m - 1 || back.getUTCDate() !== d) return null; // 31.02.
  return back.toISOString().slice(0, 10);
}

/**
 * The first date in the text. A slash date is read day-first or month-first only when one part is above 12;
 * `05/06/2019` is left as null rather than guessed (its span is still removed from the text).
 */
function findDate(text: string): FoundDate | undefined {
  let best: FoundDate | undefined;
  for (const pattern of DATE_PATTERNS) {
    const match = pattern.exec(text);
    if (match === null || (best !== undefined && match.index >= best.start)) continue;
    const g = match.groups ?? {};
    const y = Number(g.y);
    let m = Number(g.m);
    let d = Number(g.d);
    if (g.mon !== undefined) m = MONTHS.indexOf(g.mon.slice(0, 3).toLowerCase() as (typeof MONTHS)[number]) + 1;
    if (g.a !== undefined && g.b !== undefined) {
      const a = Number(g.a);
      const b = Number(g.b);
      if (a > 12 && b <= 12) [d, m] = [a, b];
      else if (b > 12 && a <= 12) [m, d] = [a, b];
      else if (a === b) [d, m] = [a, a];
      else [d, m] = [0, 0]; // ambiguous: no date
    }
    best = { iso: isoDate(y, m, d), start: match.index, end: match.index + match[0].length };
  }
  return best;
}

// ---------------------------------------------------------------------------------------------------------------
// Alert text: grammar
// ---------------------------------------------------------------------------------------------------------------

/**
 * A word of an unquoted name: no blanks, quotes, sentence punctuation or separators, not a lone dash, and not ending
 * in a full stop (so that "to openvpn. The request …" stops at "openvpn"; inner dots as in com.apple.x are kept).
 */
const WORD = '(?!-(?:\\s|$))[^\\s",;:!?|()]*[^\\s",;:!?|().]';
/** A remote: quoted, or one token (host, IPv4, IPv6, [IPv6]:port), optionally followed by "(address)". */
const REMOTE = '(?:"(?<rq>[^"]{1,255})"|(?<rt>(?!-(?:\\s|$))[^\\s",;|()]+))(?:\\s+\\((?<ra>[^()\\s]{1,64})\\))?';
/** Words that end an unquoted process name written as the object of the sentence ("… to openvpn via UDP …"). */
const STOP_WORDS = 'via|on|over|using|through|at|was|were|has|had|is|and|but|from|because|which|that';

function processAfter(extraStops: string): string {
  const stops = extraStops === '' ? STOP_WORDS : `${STOP_WORDS}|${extraStops}`;
  // Only an unquoted name needs a terminator after it; a quoted one ends at its closing quote.
  return (
    `(?:"(?<pq>[^"]{1,255})"|(?<pt>${WORD}(?:\\s${WORD})*?)` +
    `(?=\\s*(?:[.,;:!?](?:\\s|$)|$|[("|]|\\s-\\s|\\s(?:${stops})\\b)))`
  );
}

/** A process name that starts a sentence or a notification body ("openvpn wants to …", "openvpn: incoming …"). */
const SENTENCE_START = '(?:^|\\s-\\s|[.!?|]\\s)';
/** Notification titles skipped before the process ("Connection Denied - openvpn: …"). */
const TITLE =
  '(?:(?:little\\s+snitch(?:\\s+network\\s+monitor)?|(?:incoming\\s+|outgoing\\s+)?connection\\s+(?:was\\s+)?denied|' +
  'denied\\s+(?:an?\\s+)?(?:incoming\\s+|outgoing\\s+)?connection)\\s*(?:[-:]\\s*)?)*';
const PROCESS_LEADING = `(?:"(?<pq>[^"]{1,255})"|(?<pt>${WORD}(?:\\s${WORD})*?))`;
const PROTO = '(?:(?<proto>udp|tcp|icmpv6|icmp)\\s+)?';
const TRIES = '(?:has\\s+)?(?:tried|tries|is\\s+trying|was\\s+trying|attempted|wants|wanted|would\\s+like)\\s+to';
const ESTABLISH = '(?:establish|open|make|initiate|create)\\s+(?:an?\\s+)?(?:new\\s+)?';
const CONNECTION = '(?:connection|traffic|data|packet|datagram)s?\\s+(?:attempt\\s+)?';

/** The grammar: one regex per wording family, tried in this order (most specific first). */
const WORDINGS: readonly { wording: AlertWording; direction: 'incoming' | 'outgoing' | 'from-text'; pattern: RegExp }[] = [
  {
    // LS4 / rule note: "vpn.btguard.com tried to establish an incoming connection to openvpn [via UDP port 1194]."
    wording: 'ls4-sentence',
    direction: 'incoming',
    pattern: new RegExp(
      `${REMOTE}\\s+(?:${TRIES}\\s+${ESTABLISH}|(?:attempted|made|initiated|opened)\\s+(?:an?\\s+)?)(?:incoming|inbound)\\s+${PROTO}connection\\s+(?:to|with)\\s+${processAfter('')}`,
      'i',
    ),
  },
  {
    // LS5/6 notification: "Connection denied - openvpn: incoming UDP connection from vpn.btguard.com was denied …"
    // (title on its own line or before a dash; the process ends at a colon or a dash)
    wording: 'notification',
    direction: 'from-text',
    pattern: new RegExp(
      `${SENTENCE_START}${TITLE}${PROCESS_LEADING}(?:\\s*:|\\s-)\\s*(?:an?\\s+)?(?<dir>incoming|inbound|outgoing|outbound)\\s+${PROTO}${CONNECTION}(?:from|to)\\s+${REMOTE}`,
      'i',
    ),
  },
  {
    // "Incoming connection from 1.2.3.4 to openvpn was denied", "Little Snitch denied an incoming UDP connection from …"
    wording: 'incoming-from-to',
    direction: 'incoming',
    pattern: new RegExp(`(?:incoming|inbound)\\s+${PROTO}${CONNECTION}from\\s+${REMOTE}\\s+(?:to|for)\\s+${processAfter('')}`, 'i'),
  },
  {
    // The same with the process first: "Incoming UDP connection to openvpn from vpn.btguard.com was denied"
    wording: 'incoming-from-to',
    direction: 'incoming',
    pattern: new RegExp(`(?:incoming|inbound)\\s+${PROTO}${CONNECTION}to\\s+${processAfter('')}\\s+from\\s+${REMOTE}`, 'i'),
  },
  {
    // LS4 outgoing alert: "openvpn wants to connect to vpn.btguard.com on UDP port 1194"
    wording: 'outgoing-sentence',
    direction: 'outgoing',
    pattern: new RegExp(
      `${SENTENCE_START}${TITLE}${PROCESS_LEADING}\\s+${TRIES}\\s+(?:connect\\s+to|${ESTABLISH}(?:outgoing|outbound)\\s+${PROTO}connection\\s+to|send\\s+(?:data|packets?)\\s+to)\\s+${REMOTE}`,
      'i',
    ),
  },
  {
    // "Outgoing connection from openvpn to vpn.btguard.com was denied"
    wording: 'outgoing-from-to',
    direction: 'outgoing',
    pattern: new RegExp(`(?:outgoing|outbound)\\s+${PROTO}${CONNECTION}from\\s+${processAfter('to')}\\s+to\\s+${REMOTE}`, 'i'),
  },
];

const HOST_NAME = /^(?=.{1,253}\.?$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;

/** Split a port off a remote token and check it is a host name or an address. */
function cleanRemote(raw: string): { remote: string; port: number | null } | undefined {
  let value = raw.trim().replace(/\.+$/, '');
  let port: number | null = null;
  const bracketed = /^\[([0-9a-f:.%]+)\](?::(\d{1,5}))?$/i.exec(value);
  if (bracketed !== null) {
    value = bracketed[1]!;
    if (bracketed[2] !== undefined) port = Number(bracketed[2]);
  } else {
    const withPort = /^([^:]+):(\d{1,5})$/.exec(value); // one colon: host:port or a.b.c.d:port, never IPv6
    if (withPort !== null) {
      value = withPort[1]!;
      port = Number(withPort[2]);
    }
  }
  if (port !== null && (port < 1 || port > 65535)) return undefined;
  value = value.toLowerCase();
  if (isIP(value.split('%')[0]!) === 0 && !(HOST_NAME.test(value) && /[a-z]/.test(value))) return undefined;
  return { remote: value.replace(/\.$/, ''), port };
}

/** Protocol words in the contexts Little Snitch uses them, never inside a host or process name. */
const PROTOCOL_CONTEXT =
  /\b(?:incoming|outgoing|inbound|outbound|via|over|using|protocol:?)\s+(udp|tcp|icmpv6|icmp)\b|\b(udp|tcp|icmpv6|icmp)\s+(?:port|connection|packet|datagram|data|traffic)/i;
const CANNOT_BE_DELAYED = /\b(?:can\s*not|can't|could\s*not|couldn't)\s+be\s+(?:delayed|held\s+back|deferred)/i;
const PORT_IN_TEXT = /\b(?:(?:udp|tcp)\s+)?port\s+(\d{1,5})\b/i;
/** "… to openvpn via Tunnelblick." — the parent app Little Snitch names after "via" (not "via UDP port …"). */
const VIA_APP = new RegExp(
  `^\\s*\\(?via\\s+(?!(?:udp|tcp|icmp|icmpv6|port)\\b)(?:"([^"]{1,255})"|(${WORD}(?:\\s${WORD})*?)(?=\\s*(?:[.,;:!?)](?:\\s|$)|$|\\s(?:on|over|using|was|because|via)\\b)))`,
  'i',
);
const NOT_A_NAME = /\b(?:tried|tries|trying|attempted|wants|wanted|connection|incoming|outgoing|inbound|outbound)\b/i;
const ICMP_TOOLS = new Set(['ping', 'ping6', 'traceroute', 'traceroute6', 'mtr', 'mtr-packet']);

/** The file name of a process path, lower-cased (`/usr/local/sbin/openvpn` → `openvpn`). */
function baseName(process: string): string {
  return (process.split('/').pop() ?? process).toLowerCase();
}

interface Prepared {
  body: string;
  found: FoundDate | undefined;
}

/** Find the date, then remove it (with "On", weekday and time) so that it cannot be read as part of a name. */
function prepare(text: string): Prepared {
  const found = findDate(text);
  const body = found === undefined ? text : `${text.slice(0, found.start)} ${text.slice(found.end)}`.replace(/\s+/g, ' ').trim();
  return { body, found };
}

/**
 * Try each wording in order, each on both normalisations (line breaks as separators, then as spaces): a more
 * specific wording on either beats a looser one, so a wrapped LS4 sentence is not misread as a notification whose
 * "title" ended at the line break.
 */
function matchWordings(texts: readonly Prepared[]): LittleSnitchAlertDetails | undefined {
  for (const { wording, direction, pattern } of WORDINGS) {
    for (const { body, found } of texts) {
      const match = pattern.exec(body);
      if (match === null) continue;
      const g = match.groups ?? {};
      const remote = cleanRemote(g.rq ?? g.rt ?? '');
      const process = (g.pq ?? g.pt ?? '').trim().replace(/\.+$/, '');
      if (remote === undefined || process === '' || !/[\p{L}\p{N}]/u.test(process)) continue;
      // An unquoted "process" holding the alert's own verbs is a sentence misread as a title; try the next reading.
      if (g.pq === undefined && NOT_A_NAME.test(process)) continue;
      const dir = direction === 'from-text' ? (/^in/i.test(g.dir ?? '') ? 'incoming' : 'outgoing') : direction;
      const cannotBeDelayed = CANNOT_BE_DELAYED.test(body);
      const named = (g.proto ?? PROTOCOL_CONTEXT.exec(body)?.slice(1).find((p) => p !== undefined) ?? '').toLowerCase();
      let protocol: LittleSnitchAlert['protocol'] = 'unknown';
      if (named === 'udp' || named === 'tcp') protocol = named;
      else if (named.startsWith('icmp')) protocol = 'icmp';
      // formats.md §8: only connectionless data (UDP, ICMP) "cannot be delayed"; a process receives ICMP only as a
      // ping-like tool, so everything else (openvpn, WireGuard, DNS clients) means UDP.
      else if (cannotBeDelayed) protocol = ICMP_TOOLS.has(baseName(process)) ? 'icmp' : 'udp';
      const textPort = PORT_IN_TEXT.exec(body);
      const port = remote.port ?? (textPort !== null && Number(textPort[1]) <= 65535 ? Number(textPort[1]) : null);
      const via = VIA_APP.exec(body.slice(match.index + match[0].length));
      const parenthetical = g.ra !== undefined && isIP(g.ra) !== 0 ? g.ra.toLowerCase() : null;
      return {
        date: found?.iso ?? null,
        remote: remote.remote,
        process,
        direction: dir,
        protocol,
        cannotBeDelayed,
        port,
        remoteAddress: isIP(remote.remote.split('%')[0]!) !== 0 ? remote.remote : parenthetical,
        via: via === null ? null : (via[1] ?? via[2] ?? '').trim() || null,
        wording,
      };
    }
  }
  return undefined;
}

/**
 * Parse an alert and keep everything the wording offers (port, address, "via" app, which wording matched).
 *
 * Accepted wordings (any capitalisation, quoting, whitespace and line breaks; an optional date anywhere, as
 * `29 May 2019`, `May 29, 2019`, `29.05.2019`, `2019-05-29`, `2019/05/29`, unambiguous `d/m/yyyy`, with optional
 * "On", weekday and time):
 * - `<remote> tried to establish an incoming connection to <process> [via UDP port N]. The request was denied
 *   automatically because this kind of connection cannot be delayed.` (Little Snitch 4 alert / rule note;
 *   "tries/attempted/wants to establish/open an incoming [UDP] connection", "attempted an incoming connection" too;
 *   `… to <process> via <app>` fills `via`)
 * - `[Connection denied -] <process>: incoming [UDP] connection from <remote> was denied automatically because …`
 *   (Little Snitch 5/6 notification; title on its own line or before a dash; `<process> - incoming …` too)
 * - `Incoming [UDP] connection from <remote> to <process> was denied` (and "Little Snitch denied an incoming …"),
 *   `Incoming [UDP] connection to <process> from <remote> was denied`
 * - `<process> wants to connect to <remote> on UDP port N` / `… to establish an outgoing connection to <remote>`
 * - `Outgoing connection from <process> to <remote> was denied`
 * A remote may be `host`, `host:port`, `a.b.c.d:port`, IPv6, `[IPv6]:port`, or `host (address)`.
 *
 * @throws {LittleSnitchParseError} for anything else.
 */
export function parseLittleSnitchAlertDetails(text: string): LittleSnitchAlertDetails {
  if (text.trim() === '') throw new LittleSnitchParseError(`not a Little Snitch alert: the text is empty; ${EXPECTED}`);
  if (text.length > MAX_ALERT_CHARS) {
    throw new LittleSnitchParseError(`not a Little Snitch alert: ${text.length} characters is too long for one; ${EXPECTED}`);
  }
  const separated = normalise(text, 'separator');
  const spaced = normalise(text, 'space');
  const details = matchWordings(separated === spaced ? [prepare(spaced)] : [prepare(separated), prepare(spaced)]);
  if (details !== undefined) return details;
  throw new LittleSnitchParseError(`not a Little Snitch alert: ${EXPECTED}`);
}

/**
 * Parse the text of a Little Snitch 4–6 alert or notification (wordings: see {@link parseLittleSnitchAlertDetails}).
 *
 * @example
 * parseLittleSnitchAlert('On 29 May 2019, vpn.btguard.com tried to establish an incoming connection to openvpn. ' +
 *   'The request was denied automatically because this kind of connection cannot be delayed.')
 * // → { date: '2019-05-29', remote: 'vpn.btguard.com', process: 'openvpn', direction: 'incoming',
 * //     protocol: 'udp', cannotBeDelayed: true }
 * @throws {LittleSnitchParseError} when the text is not such an alert (one-line message saying what was expected).
 */
export function parseLittleSnitchAlert(text: string): LittleSnitchAlert {
  const { date, remote, process, direction, protocol, cannotBeDelayed } = parseLittleSnitchAlertDetails(text);
  return { date, remote, process, direction, protocol, cannotBeDelayed };
}

// ---------------------------------------------------------------------------------------------------------------
// Ranking
// ---------------------------------------------------------------------------------------------------------------

type ClientKind = 'openvpn' | 'wireguard' | 'other';

interface Context {
  alert: LittleSnitchAlert;
  kind: ClientKind;
  remote: string;
  remoteIsAddress: boolean;
  /** The process as shown, without its directory (`openvpn`). */
  name: string;
}

function clientKind(process: string): ClientKind {
  const lower = process.toLowerCase();
  if (/openvpn|tunnelblick|viscosity/.test(lower)) return 'openvpn';
  if (/wireguard|wg-quick|\bwg\b|boringtun/.test(lower)) return 'wireguard';
  return 'other';
}

/** Addresses whose traffic is link-local, multicast or broadcast (behaviour.md §7(a) "LAN multicast/broadcast"). */
function isLinkScoped(address: string): boolean {
  if (isIP(address) === 4) {
    const [a = 0, b = 0] = address.split('.').map(Number);
    return (a >= 224 && a <= 239) || address === '255.255.255.255' || (a === 169 && b === 254);
  }
  return /^(ff[0-9a-f]{2}:|fe[89ab][0-9a-f]:)/i.test(address);
}

/** The shell-quoted `-b/-e` range for `littlesnitch log-traffic` (formats.md §8): the alert's day, else the last day. */
function lsRange(date: string | null): string {
  return date === null
    ? `-b "$(date -v-1d '+%Y-%m-%d %H:%M:%S')" -e "$(date '+%Y-%m-%d %H:%M:%S')"`
    : `-b "${date} 00:00:00" -e "${date} 23:59:59"`;
}

/** Commands shared by several causes; each one's output is something udptrack explains or the user reads directly. */
function commands(ctx: Context) {
  const { remote, alert } = ctx;
  const proto = alert.protocol === 'icmp' ? 'icmp' : alert.protocol === 'tcp' ? 'tcp' : 'udp';
  const proc = ctx.kind === 'openvpn' ? 'openvpn' : ctx.name;
  // pfctl prints addresses, so a host name is turned into its current addresses for grep.
  const pfGrep = ctx.remoteIsAddress ? `grep -A2 -F ${remote}` : `grep -A2 -F -f <(dig +short ${remote})`;
  return {
    capture: `sudo tcpdump -i en0 -w vpn.pcap ${proto} and host ${remote}`,
    explainCapture: 'udptrack explain --capture vpn.pcap --little-snitch-file alert.txt',
    lsLog: `sudo littlesnitch log-traffic ${lsRange(alert.date)} > ls.csv`,
    explainDenied: 'udptrack explain --denied ls.csv',
    pflog: 'sudo ifconfig pflog0 create && sudo tcpdump -i pflog0 -w pflog.pcap',
    explainPflog: 'udptrack explain --capture pflog.pcap --little-snitch-file alert.txt',
    pfStates: `sudo pfctl -vss | ${pfGrep}`,
    pfInfo: 'sudo pfctl -s info | head -3',
    lsof: `sudo lsof -nP -iUDP -a -c ${proc}`,
    dig: ctx.remoteIsAddress ? `dig +short -x ${remote}` : `dig +short ${remote}`,
    sleepWake:
      alert.date === null ? 'pmset -g log | grep -E " (Sleep|Wake|DarkWake) "' : `pmset -g log | grep -E "^${alert.date} .* (Sleep|Wake|DarkWake) "`,
    restartLog: 'grep -nE "SIGUSR1|SIGTERM|ping-restart|Inactivity timeout|Restart pause|Initialization Sequence Completed" "$OPENVPN_LOG"',
    samePortLog: 'grep -nE "Authenticate/Decrypt packet error|TLS keys are out of sync|Incoming packet rejected" "$OPENVPN_LOG"',
    configCheck: 'grep -nE "^[[:space:]]*(nobind|lport|bind|port|float|keepalive|ping|ping-restart|explicit-exit-notify|persist-remote-ip|remote)\\b" "$OPENVPN_CONFIG"',
  };
}

/** Remedies shared by several causes (behaviour.md §3.5). */
function remedies(ctx: Context) {
  const rule = lsrulesForAlert(ctx.alert);
  const lsRule =
    rule === undefined
      ? []
      : [
          `Little Snitch rule allowing incoming ${ctx.alert.protocol === 'icmp' ? 'ICMP' : 'UDP'} from ${ctx.remote} to ${ctx.name} only ` +
            `(behaviour.md §3.5 item 6): save as ${ctx.name}-${ctx.remote.replace(/[^a-z0-9.-]/gi, '_')}.lsrules and import it:\n${rule}`,
        ];
  if (ctx.kind === 'openvpn') {
    return {
      keepalive:
        'keepalive 10 60 in the server config (server pings every 10 s, clients get ping 10 / ping-restart 60); ' +
        'if you cannot change the server, put ping 10 and ping-restart 60 in the client config',
      exitNotify:
        'explicit-exit-notify 1 in the client config: a clean stop or restart closes the server instance at once ' +
        '(OpenVPN ≥ 2.6 sends EXIT on the control channel); it cannot help after a crash, kill -9 or sleep',
      persistRemote: 'persist-remote-ip in the client config: a ping-restart keeps the server address instead of re-resolving the name',
      nobind:
        'keep nobind in the client config (the default for clients since OpenVPN 2.6) and remove lport/bind, so every ' +
        'start gets a new port that no old-session datagram can reach',
      noDuplicateCn: 'no duplicate-cn on the server: a reconnect with the same certificate then drops the old instance and its pings',
      lsRule,
    };
  }
  const keepalive =
    ctx.kind === 'wireguard'
      ? 'PersistentKeepalive = 25 in the [Peer] section (wireguard.com/quickstart), below every UDP idle timeout on the path'
      : `make ${ctx.name} send a keepalive at least every 25 s while idle, or treat these denials as harmless`;
  return { keepalive, exitNotify: keepalive, persistRemote: keepalive, nobind: keepalive, noDuplicateCn: keepalive, lsRule };
}

interface Draft {
  cause: string;
  score: number;
  why: string;
  confirm: string[];
  remedy: string[];
}

function likelihoodOf(score: number): AlertCause['likelihood'] {
  return score >= 80 ? 'high' : score >= 45 ? 'medium' : 'low';
}

function finish(drafts: Draft[]): AlertCause[] {
  return drafts
    .map((d, i) => ({ d, i }))
    .sort((x, y) => y.d.score - x.d.score || x.i - y.i)
    .map(({ d }) => ({ cause: d.cause, likelihood: likelihoodOf(d.score), why: d.why, confirm: d.confirm, remedy: [...new Set(d.remedy)] }));
}

/** Causes for inbound UDP (or connectionless data of unknown protocol) to a UDP client — the common case. */
function rankInboundUdp(ctx: Context): Draft[] {
  const c = commands(ctx);
  const r = remedies(ctx);
  const { remote, name } = ctx;
  const ovpn = ctx.kind === 'openvpn';
  const lsCannotDelay =
    'Little Snitch cannot hold back connectionless data, so an incoming datagram no rule covers is denied at once (formats.md §8)';
  const drafts: Draft[] = [
    {
      cause: 'idle-expiry',
      score: 92,
      why:
        `${lsCannotDelay}; its tracker forgets a quiet UDP flow (Little Snitch for Linux: after several minutes, macOS threshold unconfirmed) ` +
        `and reports the next datagram from ${remote} as a new incoming connection (behaviour.md §4). ` +
        `That happens when ${name}'s keepalive is slower than that, or nothing was sent for a while (sleep), while ${remote} kept sending (behaviour.md §7(a)).`,
      confirm: [c.capture, c.explainCapture, c.lsLog, c.explainDenied, c.sleepWake, ...(ovpn ? [c.configCheck] : []), c.pfStates],
      remedy: [r.keepalive, ...(ovpn ? [r.nobind] : []), ...r.lsRule],
    },
    {
      cause: 'client-restart',
      score: 90,
      why: ovpn
        ? `The client reconnected (ping-restart, SIGUSR1, network change, wake; OpenVPN ≥ 2.6 uses nobind, so a new source port) without telling the server, ` +
          `and the server keeps pinging the old address:port until its ping-restart — 240 s with the sample keepalive 10 120 (behaviour.md §3.2–3.3, §7(a)). ` +
          `This is the accepted explanation of this very alert (Super User 1442637, behaviour.md §4).`
        : `${name} restarted or reopened its socket without telling ${remote}, which kept sending to the old address:port; ` +
          `those datagrams have no outgoing flow behind them any more (behaviour.md §7(a)).`,
      confirm: [c.capture, c.explainCapture, ...(ovpn ? [c.restartLog, c.lsof] : []), c.lsLog, c.explainDenied],
      remedy: ovpn ? [r.exitNotify, r.keepalive, r.noDuplicateCn, r.nobind, ...r.lsRule] : [r.keepalive, ...r.lsRule],
    },
  ];
  if (ctx.kind !== 'other') {
    drafts.push(
      {
        cause: 'same-port-restart',
        score: 70,
        why: ovpn
          ? `A client bound to a fixed port (lport/bind, or port 1194 before OpenVPN 2.6) reuses the same 5-tuple after a restart, so old-session datagrams ` +
            `reach the new openvpn socket — which is why Little Snitch can name openvpn as the receiver; the log then shows decrypt or TLS-sync errors (behaviour.md §3.3, §4).`
          : `${name} listens on a fixed port (ListenPort), so after a restart old-session packets from ${remote} reach the new process on the same 5-tuple (behaviour.md §3.3–3.4).`,
        confirm: ovpn ? [c.lsof, c.configCheck, c.samePortLog, c.capture, c.explainCapture] : [c.lsof, c.capture, c.explainCapture],
        remedy: ovpn ? [r.nobind, r.exitNotify, ...r.lsRule] : [r.keepalive, ...r.lsRule],
      },
      {
        cause: 'client-killed',
        score: 62,
        why: ovpn
          ? `openvpn was killed or crashed, or the Mac went to sleep, so no exit notification was sent and the server keeps pinging the old port until its ping-restart (behaviour.md §3.2, §7(a)). ` +
            `Little Snitch names openvpn only while an openvpn socket owns that port, so this fits a client that was started again on it (inference, behaviour.md §4).`
          : `${name} was killed or the Mac slept; ${remote} keeps sending to the old port until its own timeout (behaviour.md §3.4, §7(a)).`,
        confirm: [c.capture, c.explainCapture, c.sleepWake, ...(ovpn ? [c.restartLog] : []), c.lsLog, c.explainDenied],
        remedy: ovpn ? [r.keepalive, r.noDuplicateCn, r.exitNotify, ...r.lsRule] : [r.keepalive, ...r.lsRule],
      },
    );
  } else {
    drafts.push({
      cause: 'late-reply',
      score: 58,
      why:
        `A reply from ${remote} arrived after ${name} had stopped waiting for it (DNS, NTP, STUN and QUIC clients close or forget flows quickly), ` +
        `so nothing outgoing matched it any more (behaviour.md §7(a)).`,
      confirm: [c.capture, c.explainCapture, c.lsLog, c.explainDenied],
      remedy: ['usually harmless: the application already gave up on that request; no rule needed'],
    });
  }
  drafts.push(
    {
      cause: 'endpoint-change',
      score: ctx.remoteIsAddress ? 45 : 50,
      why:
        `The datagrams came from another server address or port than the one ${name} last sent to — round-robin DNS without persist-remote-ip, ` +
        `a load balancer, or a server answering from another address — and that is a new inbound flow for every stateful firewall (behaviour.md §3.3, §7(a)).`,
      confirm: [c.dig, ...(ovpn ? [c.configCheck] : []), c.capture, c.explainCapture, c.lsLog, c.explainDenied],
      remedy: [
        ...(ovpn ? [r.persistRemote, `or pin one server: remote <address> 1194 udp in the client config instead of remote ${remote}`] : []),
        ...r.lsRule,
        ...(ctx.remoteIsAddress ? [] : [`list every address \`dig +short ${remote}\` returns if the rule should cover them by address too`]),
      ],
    },
    {
      cause: 'state-flush',
      score: 35,
      why:
        `Little Snitch or pf lost its flow table (Little Snitch update or restart, rule or profile change, a kill switch running pfctl -F) while the session was live, ` +
        `so the next datagram from ${remote} looked new; several unrelated flows are then denied in the same second (behaviour.md §5, §7(a)).`,
      confirm: [c.pfInfo, c.pflog, c.explainPflog, c.lsLog, c.explainDenied],
      remedy: ['do not reload pf or Little Snitch rules, or switch a kill switch on, while the VPN is connected', r.keepalive, ...r.lsRule],
    },
    {
      cause: 'local-address-change',
      score: 30,
      why:
        `The Mac changed address or interface (Wi-Fi roam, sleep/wake, DHCP renew), so datagrams for the session no longer match the flow the firewall remembers; ` +
        `a burst of denials follows the link event (behaviour.md §7(a)).`,
      confirm: [c.sleepWake, 'log show --last 1d --predicate \'process == "configd"\' | grep -iE "en0|ipv4|dhcp"', c.capture, c.explainCapture],
      remedy: [r.keepalive, ...(ovpn ? [r.persistRemote] : []), ...r.lsRule],
    },
    {
      cause: 'unsolicited',
      score: ctx.remoteIsAddress ? 40 : 20,
      why: ctx.remoteIsAddress
        ? `Someone ${name} never talked to sent UDP to its port (scan, P2P, a stranger's stale traffic); Little Snitch showed only an address, so check that ${remote} is your server (behaviour.md §7(a)).`
        : `Someone ${name} never talked to sent UDP to its port (scan, P2P); unlikely here because Little Snitch named ${remote}, a name this Mac looked up, i.e. the server itself (inference, behaviour.md §7(a)).`,
      confirm: [c.dig, c.lsLog, c.explainDenied, c.capture, c.explainCapture],
      remedy: ['keep denying it: no rule; if it repeats from many addresses, it is a scan'],
    },
  );
  return drafts;
}

/**
 * Rank the causes of an alert for a UDP client such as openvpn when no capture is at hand.
 *
 * For an incoming UDP alert (the BTGuard case) the order is: idle-expiry and client-restart (high), same-port-restart
 * and client-killed (medium), endpoint-change (medium, low-ish for an address), state-flush, local-address-change and
 * unsolicited (low) — behaviour.md §4 and §7(a). `graceful-exit-inflight` is left out: datagrams in flight after an
 * EXIT arrive within one round trip, to a socket that is closing, and would not make a process-named alert.
 * Link-local/multicast remotes rank `link-local-multicast`, ping-like ICMP alerts `icmp-error`, incoming TCP alerts
 * `unsolicited` (Little Snitch can delay TCP and asks, so it is a real connection attempt), and an outgoing alert
 * yields a single {@link NOT_STRAY_INBOUND} entry.
 */
export function rankAlertCauses(alert: LittleSnitchAlert): AlertCause[] {
  const remoteIsAddress = isIP(alert.remote.split('%')[0]!) !== 0;
  const kind = clientKind(alert.process);
  const ctx: Context = { alert, kind, remote: alert.remote, remoteIsAddress, name: alert.process.split('/').pop() || alert.process };
  const c = commands(ctx);

  if (alert.direction === 'outgoing') {
    return finish([
      {
        cause: NOT_STRAY_INBOUND,
        score: 100,
        why:
          `This alert is about ${alert.process} connecting out to ${alert.remote}, which Little Snitch can hold while it asks; ` +
          `it is not a stray inbound datagram, so none of the stray-inbound causes applies (behaviour.md §4).`,
        confirm: [c.lsLog, c.explainDenied],
        remedy: [`answer the alert with a rule for ${alert.process} → ${alert.remote}; nothing in the VPN configuration needs to change`],
      },
    ]);
  }
  if (remoteIsAddress && isLinkScoped(alert.remote)) {
    return finish([
      {
        cause: 'link-local-multicast',
        score: 95,
        why:
          `${alert.remote} is a link-local, multicast or broadcast address (mDNS, SSDP, LLMNR, DHCP): LAN chatter, not the VPN server; ` +
          `Little Snitch's factory rules for the local network normally allow it, so they may be off (behaviour.md §4, §7(a)).`,
        confirm: [c.capture, c.explainCapture],
        remedy: ['re-enable the local-network factory rules in Little Snitch, or ignore: the denial is harmless'],
      },
      ...rankUnsolicitedOnly(ctx, 20),
    ]);
  }
  if (alert.protocol === 'tcp') return finish(rankUnsolicitedOnly(ctx, 85, 'Little Snitch can delay incoming TCP and asks first (formats.md §8), so this was a real inbound TCP connection attempt, not a stray datagram of an expired UDP flow.'));
  if (alert.protocol === 'icmp') {
    return finish([
      {
        cause: 'icmp-error',
        score: 85,
        why:
          `An ICMP message from ${alert.remote} (unreachable, time exceeded, or an echo reply) arrived for a flow ${ctx.name} no longer has; ` +
          `ICMP is connectionless, so Little Snitch denied it without asking (formats.md §8, behaviour.md §7(a)).`,
        confirm: [c.capture, c.explainCapture, c.lsLog, c.explainDenied],
        remedy: ['harmless: the error refers to traffic that already ended; no rule needed'],
      },
      {
        cause: 'late-reply',
        score: 50,
        why: `A reply to ${ctx.name} came after it had stopped waiting (behaviour.md §7(a)).`,
        confirm: [c.capture, c.explainCapture],
        remedy: ['harmless; no rule needed'],
      },
      ...rankUnsolicitedOnly(ctx, 30),
    ]);
  }
  if (/^(configd|bootpd|dhcpd|ipconfig)$/.test(baseName(alert.process))) {
    return finish([
      {
        cause: 'dhcp',
        score: 90,
        why: `${alert.process} handles DHCP; a server reply or offer on ports 67/68 is LAN traffic, not the VPN (behaviour.md §7(a)).`,
        confirm: [`sudo tcpdump -i en0 -w dhcp.pcap 'udp and (port 67 or port 68)'`, 'udptrack explain --capture dhcp.pcap --little-snitch-file alert.txt'],
        remedy: ['allow DHCP in the local-network rules; blocking it breaks Wi-Fi (behaviour.md §5.2)'],
      },
      ...rankUnsolicitedOnly(ctx, 20),
    ]);
  }
  return finish(rankInboundUdp(ctx));
}

function rankUnsolicitedOnly(ctx: Context, score: number, why?: string): Draft[] {
  const c = commands(ctx);
  return [
    {
      cause: 'unsolicited',
      score,
      why: why ?? `Traffic from ${ctx.remote} that nothing on this Mac asked for (scan, P2P) (behaviour.md §7(a)).`,
      confirm: [c.capture, c.explainCapture, c.lsLog, c.explainDenied],
      remedy: ['keep denying it: no rule'],
    },
  ];
}

/**
 * The `.lsrules` file (see {@link buildLsrules}) that would let this alert's datagrams through: incoming UDP from the
 * alert's remote to its process only. Undefined for outgoing, TCP and ICMP alerts, where such a rule is not the fix.
 */
export function lsrulesForAlert(alert: LittleSnitchAlert): string | undefined {
  if (alert.direction !== 'incoming' || alert.protocol === 'tcp' || alert.protocol === 'icmp') return undefined;
  const isAddress = isIP(alert.remote.split('%')[0]!) !== 0;
  return buildLsrules({
    process: alert.process,
    ...(isAddress ? { remoteAddresses: [alert.remote] } : { remoteHosts: [alert.remote] }),
    protocol: 'udp',
    direction: 'incoming',
    notes:
      `Datagrams from ${alert.remote} after an idle gap or a client restart are denied as new incoming connections ` +
      `because Little Snitch cannot delay UDP (udptrack; behaviour.md §3.5, §4).`,
  });
}

// ---------------------------------------------------------------------------------------------------------------
// littlesnitch log-traffic CSV
// ---------------------------------------------------------------------------------------------------------------

/** Columns of `log-traffic` output (formats.md §8), mapped to row fields; all are required, order comes from the header. */
const TRAFFIC_COLUMNS = [
  'date',
  'direction',
  'uid',
  'ipAddress',
  'remoteHostname',
  'protocol',
  'port',
  'connectCount',
  'denyCount',
  'byteCountIn',
  'byteCountOut',
  'connectingExecutable',
  'parentAppExecutable',
] as const;
type TrafficColumn = (typeof TRAFFIC_COLUMNS)[number];

const CSV = 'littlesnitch log-traffic CSV';

interface CsvRecord {
  line: number;
  fields: string[];
}

/** RFC 4180 records: quoted fields may hold commas, doubled quotes and line breaks; CRLF, LF or CR line ends. */
function* csvRecords(text: string): Generator<CsvRecord> {
  let line = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (i < text.length) {
    const startLine = line;
    const fields: string[] = [];
    for (;;) {
      let field = '';
      while (text[i] === ' ') i++;
      if (text[i] === '"') {
        const quoteLine = line;
        i++;
        for (;;) {
          if (i >= text.length) throw new LittleSnitchParseError(`${CSV} line ${quoteLine}: quoted field not closed`, quoteLine);
          const ch = text[i]!;
          if (ch === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (ch === '\n' || (ch === '\r' && text[i + 1] !== '\n')) line++;
          field += ch;
          i++;
        }
        while (text[i] === ' ') i++;
        const next = text[i];
        if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
          throw new LittleSnitchParseError(`${CSV} line ${line}: unexpected '${next}' after a closing quote`, line);
        }
      } else {
        while (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') field += text[i++];
        field = field.trimEnd();
      }
      fields.push(field);
      if (text[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    if (text[i] === '\r') i++;
    if (text[i] === '\n') i++;
    line++;
    if (fields.length === 1 && fields[0] === '') continue; // blank line
    yield { line: startLine, fields };
  }
}

const PROTOCOL_NAMES: Readonly<Record<string, number>> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58, 'ipv6-icmp': 58 };

/**
 * `2019-05-29T14:03:12Z`, `2019-05-29 14:03:12.5+02:00`, `2019-05-29 14:03:12 +0000`: µs since the epoch and the
 * number of fraction digits. A time without a zone is taken as UTC (formats.md §8: the column is ISO-8601 UTC).
 */
function parseTrafficDate(text: string): { us: number; digits: number } | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$/i.exec(text.trim());
  if (m === null) return undefined;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 60) return undefined;
  const fraction = (m[7] ?? '').slice(0, 6);
  let offsetMin = 0;
  const zone = (m[8] ?? 'Z').toUpperCase();
  if (zone !== 'Z' && zone !== 'UTC' && zone !== 'GMT') {
    const zm = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    offsetMin = (zm[1] === '-' ? -1 : 1) * (Number(zm[2]) * 60 + Number(zm[3] ?? 0));
  }
  return { us: ms * 1000 + Number(fraction.padEnd(6, '0')) - offsetMin * 60_000_000, digits: fraction.length };
}

function isoFromUs(us: number, digits: number): string {
  const ms = Math.floor(us / 1000);
  const base = new Date(ms).toISOString().slice(0, 19);
  if (digits === 0) return `${base}Z`;
  const fraction = String(us - Math.floor(us / 1_000_000) * 1_000_000).padStart(6, '0').slice(0, digits);
  return `${base}.${fraction}Z`;
}

/** Header names, lower-cased, of the first non-blank line (quotes stripped). */
function headerNames(line: string): string[] {
  return line.replace(/^\ufeff/, '').split(',').map((h) => h.trim().replace(/^"|"$/g, '').trim().toLowerCase());
}

/**
 * Whether text looks like `littlesnitch log-traffic` output: its first non-blank line is a CSV header naming at least
 * `date`, `direction`, `ipAddress`, `denyCount` and `connectingExecutable`.
 */
export function isLittleSnitchTrafficLog(text: string): boolean {
  const first = text.slice(0, 4096).split(/\r\n|\r|\n/).find((l) => l.trim() !== '');
  if (first === undefined) return false;
  const names = new Set(headerNames(first));
  return ['date', 'direction', 'ipaddress', 'denycount', 'connectingexecutable'].every((n) => names.has(n));
}

/**
 * Parse `littlesnitch log-traffic` CSV (formats.md §8): a header line naming the thirteen known columns in any order
 * (extra columns are ignored), then one row per line; quoted fields may contain commas, quotes and line breaks.
 * Empty `uid`/`port` become null, empty counters 0; `protocol` may be a number or udp/tcp/icmp/icmpv6.
 *
 * @throws {LittleSnitchParseError} naming the 1-based line for a missing header or column, a wrong field count, an
 * unclosed quote, or a value that is not a date, direction, protocol or number.
 */
export function parseLittleSnitchTrafficLog(csv: string): LittleSnitchTrafficRow[] {
  const records = csvRecords(csv);
  const head = records.next();
  if (head.done === true) throw new LittleSnitchParseError(`${CSV} line 1: empty input; expected a header line (date,direction,…)`, 1);
  const header = head.value.fields.map((h) => h.trim().toLowerCase());
  const index = {} as Record<TrafficColumn, number>;
  const missing: string[] = [];
  for (const column of TRAFFIC_COLUMNS) {
    const at = header.indexOf(column.toLowerCase());
    if (at < 0) missing.push(column);
    else if (header.indexOf(column.toLowerCase(), at + 1) >= 0) {
      throw new LittleSnitchParseError(`${CSV} line ${head.value.line}: column '${column}' appears twice in the header`, head.value.line);
    }
    index[column] = at;
  }
  if (missing.length > 0) {
    throw new LittleSnitchParseError(`${CSV} line ${head.value.line}: header lacks ${missing.join(', ')}`, head.value.line);
  }

  const rows: LittleSnitchTrafficRow[] = [];
  for (const { line, fields } of records) {
    const fail = (what: string): never => {
      throw new LittleSnitchParseError(`${CSV} line ${line}: ${what}`, line);
    };
    if (fields.length < header.length || fields.slice(header.length).some((f) => f !== '')) {
      fail(`${fields.length} fields, the header has ${header.length}`);
    }
    const get = (column: TrafficColumn): string => (fields[index[column]] ?? '').trim();
    const count = (column: TrafficColumn): number => {
      const value = get(column);
      if (value === '') return 0;
      if (!/^\d+$/.test(value)) fail(`${column} '${value}' is not a whole number`);
      return Number(value);
    };
    const optional = (column: TrafficColumn, max: number): number | null => {
      const value = get(column);
      if (value === '') return null;
      if (!/^\d+$/.test(value) || Number(value) > max) fail(`${column} '${value}' is not a number 0-${max}`);
      return Number(value);
    };
    const date = parseTrafficDate(get('date')) ?? fail(`date '${get('date')}' is not an ISO-8601 time like 2019-05-29T14:03:12Z`);
    const dirText = get('direction').toLowerCase();
    const direction = dirText === 'in' || dirText === 'incoming' ? 'in' : dirText === 'out' || dirText === 'outgoing' ? 'out' : fail(`direction '${get('direction')}' is not in or out`);
    const protoText = get('protocol').toLowerCase();
    const protocol = /^\d{1,3}$/.test(protoText) && Number(protoText) <= 255 ? Number(protoText) : (PROTOCOL_NAMES[protoText] ?? fail(`protocol '${get('protocol')}' is not an IP protocol number or name`));
    rows.push({
      line,
      date: isoFromUs(date.us, date.digits),
      tsUs: date.us,
      direction,
      uid: optional('uid', 0xffffffff),
      ipAddress: get('ipAddress').toLowerCase(),
      remoteHostname: get('remoteHostname'),
      protocol,
      port: optional('port', 65535),
      connectCount: count('connectCount'),
      denyCount: count('denyCount'),
      byteCountIn: count('byteCountIn'),
      byteCountOut: count('byteCountOut'),
      executable: get('connectingExecutable'),
      parentApp: get('parentAppExecutable'),
    });
  }
  return rows;
}
