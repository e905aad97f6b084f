/**
 * Ports for non-first IP fragments. Only the fragment at offset 0 carries the UDP header (RFC 791, RFC 8200 §4.5),
 * so later fragments are attributed through (src, dst, protocol, id) of a first fragment seen earlier; the rest
 * are counted as unattributed. Entries live as long as a reassembly buffer would: 30 s of packet time (pf `frag`,
 * Linux ipfrag_time), and the table is bounded so a fragment flood cannot grow memory.
 */
import type { MutableDecodedPacket } from './decoded-packet.js';

const FRAGMENT_LIFETIME_SEC = 30;
const MAX_TRACKED_DATAGRAMS = 4096;

interface FirstFragment {
  srcPort: number;
  dstPort: number;
  seenSec: number;
}

/** Remembers the ports of first fragments and lends them to the fragments that follow. */
export class FragmentAttributor {
  private readonly firstFragments = new Map<string, FirstFragment>();

  /**
   * Called for every fragment of the outermost IP layer after decoding: a first fragment with UDP ports is
   * remembered; a later fragment gets its ports. Returns false when a later fragment has no first fragment.
   */
  observe(pkt: MutableDecodedPacket): boolean {
    const nowSec = pkt.record.tsSec;
    const key = fragmentKey(pkt);
    if (pkt.fragmentOffsetBytes === 0) {
      if (pkt.hasUdp) {
        if (this.firstFragments.size >= MAX_TRACKED_DATAGRAMS) this.evict(nowSec);
        this.firstFragments.set(key, { srcPort: pkt.srcPort, dstPort: pkt.dstPort, seenSec: nowSec });
      }
      return true;
    }
    const first = this.firstFragments.get(key);
    if (first === undefined || nowSec - first.seenSec > FRAGMENT_LIFETIME_SEC) return false;
    pkt.srcPort = first.srcPort;
    pkt.dstPort = first.dstPort;
    pkt.hasUdp = true;
    pkt.portsFromFirstFragment = true;
    if (!pkt.moreFragments) this.firstFragments.delete(key);
    return true;
  }

  private evict(nowSec: number): void {
    for (const [key, entry] of this.firstFragments) {
      if (nowSec - entry.seenSec > FRAGMENT_LIFETIME_SEC) this.firstFragments.delete(key);
    }
    // Still full: drop the oldest half (Map iterates in insertion order).
    if (this.firstFragments.size >= MAX_TRACKED_DATAGRAMS) {
      let toDrop = this.firstFragments.size >> 1;
      for (const key of this.firstFragments.keys()) {
        if (toDrop-- <= 0) break;
        this.firstFragments.delete(key);
      }
    }
  }
}

function fragmentKey(pkt: MutableDecodedPacket): string {
  const data = pkt.data;
  const addrBytes = pkt.ipVersion === 4 ? 4 : 16;
  let key = `${pkt.ipProto}/${pkt.fragmentId}/`;
  for (let i = 0; i < addrBytes; i++) key += (data[pkt.srcAddrOffset + i] ?? 0).toString(16) + '.';
  key += '/';
  for (let i = 0; i < addrBytes; i++) key += (data[pkt.dstAddrOffset + i] ?? 0).toString(16) + '.';
  return key;
}
