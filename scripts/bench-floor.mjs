#!/usr/bin/env node
/**
 * bench-floor.mjs - the floor for a Node tool on the benchmark workloads: the "hand-written Node reader + UDP flow
 * table with idle timeouts" of issue 7's table, and nothing else. Reads a classic little-endian pcap (Ethernet, 802.1Q
 * tags, IPv4/IPv6) in 2 MiB chunks into one buffer, keys UDP flows by the address words and ports in an
 * open-addressing hash over typed arrays, restarts a flow after a 60 s gap, and prints three counts. No decoding
 * beyond the headers, no firewall model, no service, no output: what any Node tool pays before doing its own work
 * (`npm run bench` runs it beside the peers; it is not part of udptrack).
 *
 *   node scripts/bench-floor.mjs FILE
 */
import { closeSync, openSync, readSync } from 'node:fs';

const CHUNK_BYTES = 1 << 20;
const TIMEOUT_US = 60e6;
const CAPACITY = 1 << 20;
const MASK = CAPACITY - 1;

const fd = openSync(process.argv[2], 'r');
const buf = Buffer.allocUnsafe(CHUNK_BYTES * 2);
const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
let have = readSync(fd, buf, 0, buf.length, null);
let pos = 24; // the pcap file header
let ended = false;
const keyA = new Int32Array(CAPACITY);
const keyB = new Int32Array(CAPACITY);
const keyC = new Int32Array(CAPACITY);
const lastUs = new Float64Array(CAPACITY);
const used = new Uint8Array(CAPACITY);
let packets = 0;
let flows = 0;
let restarted = 0;

for (;;) {
  if (have - pos < 16 + 65536 && !ended) {
    buf.copy(buf, 0, pos, have);
    have -= pos;
    pos = 0;
    const n = readSync(fd, buf, have, buf.length - have, null);
    if (n === 0) ended = true;
    have += n;
  }
  if (have - pos < 16) break;
  const tsUs = view.getUint32(pos, true) * 1e6 + view.getUint32(pos + 4, true);
  const capLen = view.getUint32(pos + 8, true);
  const frame = pos + 16;
  pos = frame + capLen;
  if (pos > have) break;
  packets++;
  let at = frame + 12;
  let etherType = (buf[at] << 8) | buf[at + 1];
  at += 2;
  while (etherType === 0x8100) {
    etherType = (buf[at + 2] << 8) | buf[at + 3];
    at += 4;
  }
  let a;
  let b;
  let c;
  if (etherType === 0x0800) {
    if (buf[at + 9] !== 17) continue;
    a = view.getInt32(at + 12);
    b = view.getInt32(at + 16);
    c = view.getInt32(at + (buf[at] & 15) * 4);
  } else if (etherType === 0x86dd) {
    if (buf[at + 6] !== 17) continue;
    a = view.getInt32(at + 8) ^ view.getInt32(at + 20) ^ view.getInt32(at + 32);
    b = view.getInt32(at + 24) ^ view.getInt32(at + 36) ^ view.getInt32(at + 52);
    c = view.getInt32(at + 40);
  } else {
    continue;
  }
  let i = (Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca6b) ^ Math.imul(c, 0xc2b2ae35)) & MASK;
  for (;;) {
    if (used[i] === 0) {
      used[i] = 1;
      keyA[i] = a;
      keyB[i] = b;
      keyC[i] = c;
      lastUs[i] = tsUs;
      flows++;
      break;
    }
    if (keyA[i] === a && keyB[i] === b && keyC[i] === c) {
      if (tsUs - lastUs[i] > TIMEOUT_US) restarted++;
      lastUs[i] = tsUs;
      break;
    }
    i = (i + 1) & MASK;
  }
}
closeSync(fd);
console.log(JSON.stringify({ packets, flows, restarted }));
