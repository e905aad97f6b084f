/**
 * Little Snitch `.lsrules` files (formats.md §8): the one rule that lets a VPN server's stray UDP datagrams reach
 * the VPN client instead of raising "… cannot be delayed" notifications (behaviour.md §3.5 item 6, §4).
 *
 * The rule is deliberately narrow: one process, one direction, one protocol and the named server only. A rule with
 * `"remote": "any"` would open the VPN client's socket to the whole Internet, which is exactly what Little Snitch is
 * there to prevent, so this module refuses to write one.
 *
 * Key names and values, as listed in formats.md §8 (Objective Development "The .lsrules file format", cross-checked
 * with the bluk/ls_rules serde model):
 * - top level `name`, `description`, `rules` — confirmed.
 * - rule keys `process`, `direction` ("incoming"), `action` ("allow"), `remote-hosts` (string or array),
 *   `remote-addresses`, `ports` ("any", "1194", "1194-1200"), `notes` — confirmed as key names.
 * - `protocol` value `"udp"` — UNCONFIRMED (formats.md §8: "exact accepted protocol strings are UNCONFIRMED").
 * - `remote-addresses` as one comma-separated string — UNCONFIRMED; bluk/ls_rules models it as a single string,
 *   so that is the form written here (an array might not be read by every Little Snitch version).
 * - whether `ports` on an *incoming* rule means the local port (as `log-traffic` reports it for `in` rows,
 *   formats.md §8) — UNCONFIRMED; the default `"any"` sidesteps it.
 */

/** Options for {@link buildLsrules}. */
export interface LsrulesOptions {
  /**
   * The receiving executable. A full path is used as is (`/usr/local/sbin/openvpn`,
   * `/Applications/Tunnelblick.app/Contents/Resources/openvpn/openvpn-2.6.x/openvpn`). A bare name that Little
   * Snitch showed in its notification is mapped by {@link defaultProcessPath}; the assumption is written into the
   * rule's `notes` and the file's `description` so the user sees what to correct.
   */
  process: string;
  /** Host names of the server, as Little Snitch showed them (`vpn.btguard.com`). */
  remoteHosts?: string[];
  /** Addresses or ranges of the server (`198.51.100.7`, `2001:db8::7`, `198.51.100.0/24`). */
  remoteAddresses?: string[];
  /**
   * Port or port range, `"1194"` or `"50000-60000"`; default `"any"`. For an OpenVPN client leave it out: with
   * `nobind` (the default since 2.6, behaviour.md §3.3) the local port changes at every start.
   */
  ports?: string;
  protocol: 'udp';
  direction: 'incoming';
  /** Free text stored in the rule's `notes` (why the rule exists). */
  notes: string;
}

/** Error raised when an `.lsrules` file would be too broad or malformed; its message is one line. */
export class LsrulesError extends Error {
  override readonly name = 'LsrulesError';
}

/**
 * Where a bare process name most likely lives. Only `openvpn` has a default: `/usr/local/sbin/openvpn` is where
 * OpenVPN's own `make install` (prefix /usr/local) and Homebrew on Intel Macs put it. Homebrew on Apple silicon
 * uses `/opt/homebrew/sbin/openvpn`, MacPorts `/opt/local/sbin/openvpn`, and Tunnelblick ships versioned copies
 * under `/Applications/Tunnelblick.app/Contents/Resources/openvpn/`; check with `ps -axo comm | grep openvpn`.
 * Returns undefined for other bare names.
 */
export function defaultProcessPath(process: string): string | undefined {
  if (process.includes('/')) return process;
  if (process.toLowerCase() === 'openvpn') return '/usr/local/sbin/openvpn';
  return undefined;
}

/** Where to look when the path is a guess (kept next to {@link defaultProcessPath} so the two stay in step). */
const OPENVPN_PATH_HINT =
  'Assumed path /usr/local/sbin/openvpn (OpenVPN make install, Homebrew on Intel); Apple-silicon Homebrew uses ' +
  '/opt/homebrew/sbin/openvpn, MacPorts /opt/local/sbin/openvpn, Tunnelblick a versioned copy under ' +
  '/Applications/Tunnelblick.app/Contents/Resources/openvpn/. Check with: ps -axo comm | grep openvpn';

const PORTS_PATTERN = /^(any|\d{1,5}(-\d{1,5})?)$/;

function checkPorts(ports: string): void {
  if (!PORTS_PATTERN.test(ports)) throw new LsrulesError(`ports '${ports}' is not "any", a port or a range like "1194-1200"`);
  for (const part of ports === 'any' ? [] : ports.split('-')) {
    const value = Number(part);
    if (value < 1 || value > 65535) throw new LsrulesError(`port ${part} in '${ports}' is outside 1-65535`);
  }
}

/** Names and addresses that would turn the rule into "allow from anywhere"; Little Snitch keywords for `remote`. */
const TOO_BROAD = new Set(['any', '*', 'local-net', 'multicast', 'broadcast', 'bonjour', 'dns-servers', 'bpf', '0.0.0.0/0', '::/0']);

function cleanList(values: readonly string[] | undefined, what: string): string[] {
  const out: string[] = [];
  for (const raw of values ?? []) {
    const value = raw.trim();
    if (value === '') continue;
    if (TOO_BROAD.has(value.toLowerCase())) throw new LsrulesError(`${what} '${value}' would allow any sender; name the server instead`);
    if (/[\s"]/.test(value)) throw new LsrulesError(`${what} '${value}' contains blanks or quotes`);
    if (!out.includes(value)) out.push(value);
  }
  return out;
}

/**
 * Build an `.lsrules` file (pretty JSON, two-space indent, trailing newline) that allows incoming UDP from the given
 * server to one process and nothing else. With both host names and addresses there are two rules, one per key,
 * because how Little Snitch combines `remote-hosts` and `remote-addresses` in a single rule is not documented.
 *
 * @throws {LsrulesError} when no server is named, a server is "any"-like, the process is empty or "any", or `ports`
 * is malformed.
 */
export function buildLsrules(options: LsrulesOptions): string {
  const given = options.process.trim();
  if (given === '' || given.toLowerCase() === 'any') throw new LsrulesError('process must name one executable, not "any" or nothing');
  const process = defaultProcessPath(given) ?? given;
  const guessedPath = !given.includes('/');
  const hosts = cleanList(options.remoteHosts, 'remote host');
  const addresses = cleanList(options.remoteAddresses, 'remote address');
  if (hosts.length === 0 && addresses.length === 0) {
    throw new LsrulesError('name the server in remoteHosts or remoteAddresses; a rule for any remote is not written');
  }
  const ports = options.ports?.trim() || 'any';
  checkPorts(ports);

  const pathNote =
    given.toLowerCase() === 'openvpn'
      ? ` ${OPENVPN_PATH_HINT}`
      : guessedPath
        ? ` Little Snitch needs the full path of '${given}'; replace it before importing.`
        : '';
  const notes = `${options.notes.trim()}${pathNote}`.trim();
  const servers = [...hosts, ...addresses].join(', ');
  const shortName = given.split('/').pop() ?? given;

  const base = { process, direction: options.direction, action: 'allow', protocol: options.protocol };
  const rules: Record<string, unknown>[] = [];
  if (hosts.length > 0) rules.push({ ...base, 'remote-hosts': hosts, ports, notes });
  if (addresses.length > 0) rules.push({ ...base, 'remote-addresses': addresses.join(', '), ports, notes });

  const file = {
    name: `${shortName}: incoming UDP from ${servers}`,
    description:
      `Allows incoming UDP from ${servers} to ${process} only, so that the server's datagrams after an idle gap or ` +
      `a client restart are delivered instead of denied (written by udptrack).` +
      (guessedPath ? ` The process path is ${given.toLowerCase() === 'openvpn' ? 'assumed' : 'incomplete'}; see the rule notes.` : ''),
    rules,
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}
