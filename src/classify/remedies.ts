/**
 * What to change for each cause (behaviour.md §3.5): keepalives below the smallest timeout on the path, exit
 * notification, narrow rules for the VPN endpoint — or, when the packet is harmless, saying so.
 */

/** Stable cause names (kebab-case, never renamed). */
export type CauseName =
  | 'idle-expiry'
  | 'client-killed'
  | 'client-restart'
  | 'same-port-restart'
  | 'graceful-exit-inflight'
  | 'state-flush'
  | 'endpoint-change'
  | 'local-address-change'
  | 'unsolicited'
  | 'link-local-multicast'
  | 'dhcp'
  | 'late-reply'
  | 'icmp-error';

/** Every cause, in the order the classifier tries them. */
export const CAUSES: readonly CauseName[] = [
  'dhcp',
  'link-local-multicast',
  'state-flush',
  'endpoint-change',
  'local-address-change',
  'unsolicited',
  'same-port-restart',
  'graceful-exit-inflight',
  'client-restart',
  'late-reply',
  'client-killed',
  'idle-expiry',
  'icmp-error',
];

/** Context that makes a remedy specific. */
export interface RemedyContext {
  service: string;
  /** `198.51.100.7:1194`. */
  remote: string;
  localPort: number;
  steadyTimeoutUs: number;
}

/** Remedies for a cause, most useful first; the first line is the one-line fix. */
export function remedyFor(cause: CauseName, ctx: RemedyContext): string[] {
  const timeoutSec = Math.max(1, Math.round(ctx.steadyTimeoutUs / 1e6));
  const ping = Math.max(1, Math.min(25, Math.floor(timeoutSec / 2)));
  const vpn = ctx.service === 'wireguard' ? 'wireguard' : ctx.service === 'openvpn' || ctx.service === '' ? 'openvpn' : 'other';
  const remoteAddr = ctx.remote.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const remotePort = ctx.remote.slice(ctx.remote.lastIndexOf(':') + 1);
  const passRule = `pf: pass in quick on $wifi proto udp from ${remoteAddr} port ${remotePort} to any keep state`;
  switch (cause) {
    case 'idle-expiry':
      return [
        vpn === 'wireguard'
          ? `send keepalives more often than the firewall forgets: WireGuard "PersistentKeepalive = ${Math.min(25, ping)}"`
          : vpn === 'openvpn'
            ? `send keepalives more often than the firewall forgets: OpenVPN "keepalive ${Math.min(10, ping)} 60" on the server (pushed to clients), or "ping ${Math.min(10, ping)}" on the client`
            : `have the application send a keepalive at least every ${ping} s`,
        `the steady-state timeout here is ${timeoutSec} s; keep the interval at or below half of the smallest UDP timeout on the path (home NATs can be as low as 30 s)`,
        'or raise the firewall timeout: pf "set timeout udp.multiple 120" (and udp.single), Linux "sysctl net.netfilter.nf_conntrack_udp_timeout_stream=180", nftables ct timeout "replied"',
      ];
    case 'client-killed':
      return [
        'harmless strays from the server to a client that is gone; they stop at the server\'s ping-restart',
        'shorten that window with a server "keepalive 10 60" (ping-restart 120 s); a clean stop with "explicit-exit-notify 1" on the client ends the server instance at once',
      ];
    case 'client-restart':
      return [
        'client "explicit-exit-notify 1" so a restart closes the old server instance at once; the strays to the old port are otherwise harmless and stop at the server\'s ping-restart',
        'on the server avoid "duplicate-cn" (a reconnect then drops the old instance), and use "keepalive 10 60"',
      ];
    case 'same-port-restart':
      return [
        'let the client pick a new port on each start ("nobind", the default since OpenVPN 2.6) and send "explicit-exit-notify 1"; old-session packets on the same port are harmless but log decrypt errors',
      ];
    case 'graceful-exit-inflight':
      return ['harmless: nothing to do (packets already in flight when the session was closed)'];
    case 'state-flush':
      return [
        'avoid flushing states when (re)loading rules: "pfctl -f rules.conf" instead of "pfctl -Fa -f" (kill switches do the latter); on Linux avoid "conntrack -F" and full "nft flush ruleset" reloads',
        'a keepalive from the client recreates the state at once; until then the burst is harmless for UDP',
      ];
    case 'endpoint-change':
      return [
        'keep the VPN client on one server address: OpenVPN "persist-remote-ip", or "float" when the server legitimately answers from another address',
        `or allow that server explicitly: ${passRule}`,
      ];
    case 'local-address-change':
      return [
        'harmless after roaming or sleep/wake: the client re-establishes from the new address; "persist-local-ip" keeps the old one where that is possible, and keepalives make recovery quick',
      ];
    case 'unsolicited':
      return ['harmless: nothing to do — keep it denied (a scan, a P2P probe or stale peer information)'];
    case 'link-local-multicast':
      return [
        'harmless unless you need Bonjour/AirPlay/printers on this network; then allow only mDNS: pf "pass in quick on $wifi inet proto udp to 224.0.0.251 port 5353" and "pass in quick on $wifi inet6 proto udp to ff02::fb port 5353"',
      ];
    case 'dhcp':
      return [
        'allow DHCP on the Wi-Fi interface, or the address is never renewed: pf "pass quick on $wifi inet proto udp from port 68 to port 67" and "pass in quick on $wifi inet proto udp from port 67 to port 68" (DHCPv6: ports 546/547)',
      ];
    case 'late-reply':
      return ['harmless: the request timed out before its answer came; nothing to do'];
    case 'icmp-error':
      return ['harmless: an ICMP error about a flow whose state is gone; nothing to do'];
  }
}
