/** Encoder of whole DNS messages with name compression (RFC 1035 §4.1.4), used to build cached answers. */
import { CLASS_IN, TYPE_OPT, type ResourceRecord } from './zone.js';

/** Compression pointers hold a 14-bit offset. */
const MAX_POINTER_OFFSET = 0x3fff;

export class MessageWriter {
  private buf = Buffer.alloc(512);
  private pos = 0;
  /** Lower-case wire suffix (latin1) → offset of its first occurrence. */
  private readonly names = new Map<string, number>();

  get length(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.alloc(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }

  bytes(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }

  /**
   * Writes a lower-case wire-format name, ending in a pointer to an earlier occurrence of its longest known
   * suffix when `compress` is set. Every suffix written in full is remembered for later names either way.
   */
  name(wire: Buffer, compress = true): void {
    let p = 0;
    while (wire[p] !== 0) {
      const suffix = wire.toString('latin1', p);
      const earlier = this.names.get(suffix);
      if (compress && earlier !== undefined) {
        this.u16(0xc000 | earlier);
        return;
      }
      if (earlier === undefined && this.pos <= MAX_POINTER_OFFSET) this.names.set(suffix, this.pos);
      const end = p + 1 + wire[p];
      this.bytes(wire.subarray(p, end));
      p = end;
    }
    this.u8(0);
  }

  header(flagsHigh: number, flagsLow: number, qd: number, an: number, ns: number, ar: number): void {
    this.u16(0);
    this.u8(flagsHigh);
    this.u8(flagsLow);
    this.u16(qd);
    this.u16(an);
    this.u16(ns);
    this.u16(ar);
  }

  question(qname: Buffer, qtype: number, qclass: number): void {
    this.name(qname);
    this.u16(qtype);
    this.u16(qclass);
  }

  record(rr: ResourceRecord): void {
    this.name(rr.owner);
    this.u16(rr.type);
    this.u16(CLASS_IN);
    this.u32(rr.ttl);
    const lengthAt = this.pos;
    this.u16(0);
    const rdata = rr.rdata;
    switch (rdata.kind) {
      case 'address':
        this.bytes(rdata.bytes);
        break;
      case 'name':
        this.name(rdata.name);
        break;
      case 'soa':
        this.name(rdata.mname);
        this.name(rdata.rname);
        this.u32(rdata.serial);
        this.u32(rdata.refresh);
        this.u32(rdata.retry);
        this.u32(rdata.expire);
        this.u32(rdata.minimum);
        break;
      case 'srv':
        this.u16(rdata.priority);
        this.u16(rdata.weight);
        this.u16(rdata.port);
        // RFC 2782: the SRV target is never compressed.
        this.name(rdata.target, false);
        break;
    }
    this.buf.writeUInt16BE(this.pos - lengthAt - 2, lengthAt);
  }

  /** OPT pseudo-record (RFC 6891) with the given UDP payload size and extended RCODE, version 0. */
  opt(udpPayload: number, extendedRcode: number): void {
    this.u8(0);
    this.u16(TYPE_OPT);
    this.u16(udpPayload);
    this.u8(extendedRcode);
    this.u8(0);
    this.u16(0);
    this.u16(0);
  }

  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}
