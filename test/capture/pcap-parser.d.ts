/**
 * Types for `pcap-parser` 0.2.1 (devDependency, used only as a test oracle by oracle.test.ts); the package
 * ships none. Only the surface the oracle uses is declared.
 */
declare module 'pcap-parser' {
  import type { EventEmitter } from 'node:events';

  /** The 24-byte file header, fields in the file's byte order. */
  interface PcapGlobalHeader {
    magicNumber: number;
    majorVersion: number;
    minorVersion: number;
    gmtOffset: number;
    timestampAccuracy: number;
    snapshotLength: number;
    linkLayerType: number;
  }

  /** A record header as written (no caplen/len swap, no snaplen cut). */
  interface PcapPacketHeader {
    timestampSeconds: number;
    /** The raw fraction field: µs, or ns when the file has the ns magic (patched by the oracle). */
    timestampMicroseconds: number;
    capturedLength: number;
    originalLength: number;
  }

  interface PcapPacket {
    header: PcapPacketHeader;
    data: Buffer;
  }

  interface PcapParser extends EventEmitter {
    on(event: 'globalHeader', listener: (header: PcapGlobalHeader) => void): this;
    on(event: 'packet', listener: (packet: PcapPacket) => void): this;
    on(event: 'end', listener: () => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
  }

  const pcapParser: {
    parse(input: string | NodeJS.ReadableStream): PcapParser;
  };
  export default pcapParser;
}
