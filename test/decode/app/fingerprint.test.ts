/**
 * guessService's port fallback (no payload to match): the well-known port of the pair, the lower one first (a client
 * port is usually the higher), then the other; no guess otherwise.
 */
import { describe, expect, it } from 'vitest';
import { SERVICE_GUESSES, guessService } from '../../../src/decode/app/fingerprint.js';

const EMPTY = new Uint8Array(0);
const byPorts = (srcPort: number, dstPort: number): [string, string] => {
  const guess = guessService(EMPTY, 0, 0, srcPort, dstPort);
  return [guess.service, guess.by];
};

describe('guessService by port', () => {
  it('names the well-known port of the pair, the lower one first, then the other', () => {
    expect(byPorts(40000, 1194)).toEqual(['openvpn', 'port']);
    expect(byPorts(53, 1194)).toEqual(['dns', 'port']);
    expect(byPorts(1194, 53)).toEqual(['dns', 'port']);
    expect(byPorts(1000, 5353)).toEqual(['mdns', 'port']);
    expect(byPorts(51820, 30000)).toEqual(['wireguard', 'port']);
    expect(byPorts(40000, 40001)).toEqual(['', '']);
    expect(byPorts(0, 0)).toEqual(['', '']);
    expect(byPorts(65535, 65535)).toEqual(['', '']);
    // Without ports (an ICMP error, a later fragment): -1 each.
    expect(byPorts(-1, -1)).toEqual(['', '']);
    expect(byPorts(-1, 53)).toEqual(['dns', 'port']);
  });

  it('returns the shared guess objects, found by their index', () => {
    const guess = guessService(EMPTY, 0, 0, 40000, 123);
    expect(guess).toMatchObject({ service: 'ntp', by: 'port' });
    expect(SERVICE_GUESSES[guess.index]).toBe(guess);
    expect(SERVICE_GUESSES[guessService(EMPTY, 0, 0, 40000, 40001).index]!.service).toBe('');
  });
});
