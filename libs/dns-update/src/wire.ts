import { isIPv4, isIPv6 } from 'node:net';

/*
 * A minimal DNS wire codec (RFC 1035) for the few message shapes dynamic updates need.
 *
 * dns-packet is not used for this: it cannot encode class NONE (254) or a typed record with empty
 * RDATA, both of which RFC 2136 prerequisites and deletions require, and its decoder does not expose
 * record offsets, which TSIG verification needs to cut the signature off the signed bytes.
 */

export const RRType = { A: 1, NS: 2, SOA: 6, AAAA: 28, SRV: 33, TSIG: 250 } as const;
export const RRClass = { IN: 1, NONE: 254, ANY: 255 } as const;
export const Opcode = { QUERY: 0, UPDATE: 5 } as const;

const HEADER_LENGTH = 12;
const MAX_NAME_LENGTH = 255;
const MAX_LABEL_LENGTH = 63;

/** Thrown for bytes that are not a well-formed DNS message. */
export class DnsFormatError extends Error {
  override readonly name = 'DnsFormatError';
}

export interface Question {
  readonly name: string;
  readonly type: number;
  readonly class: number;
}

/** A record to encode. `rdata` is the raw RDATA (empty for RFC 2136 "delete RRset" and "RRset does not exist"). */
export interface RecordInput {
  readonly name: string;
  readonly type: number;
  readonly class: number;
  readonly ttl: number;
  readonly rdata: Buffer;
}

/** A decoded record with its position in the message, so that it can be cut out again byte-exactly. */
export interface ResourceRecord extends RecordInput {
  /** Offset of the owner name. */
  readonly start: number;
  /** Offset of the RDATA (names inside it may point back into the message). */
  readonly rdataStart: number;
  /** Offset just past the record. */
  readonly end: number;
}

export interface DnsMessage {
  readonly id: number;
  readonly response: boolean;
  readonly opcode: number;
  readonly rcode: number;
  readonly flags: number;
  readonly questions: Question[];
  readonly answers: ResourceRecord[];
  readonly authorities: ResourceRecord[];
  readonly additionals: ResourceRecord[];
}

export interface MessageInput {
  readonly id: number;
  readonly opcode: number;
  /** Extra header bits (RD, AA...); the opcode field is set from `opcode`. */
  readonly flags?: number;
  readonly questions: readonly Question[];
  readonly answers?: readonly RecordInput[];
  readonly authorities?: readonly RecordInput[];
  readonly additionals?: readonly RecordInput[];
}

export const FLAG_QR = 0x8000;

const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE', 'DSOTYPENI'];

/** Mnemonic of a header RCODE (RFC 1035, RFC 2136). */
export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
}

// ---------------------------------------------------------------------------------------------
// Names

/**
 * Wire form of a domain name, uncompressed. Names are always taken as absolute (a trailing dot is
 * optional). `canonical` lower-cases ASCII letters as RFC 4034 §6.2 requires for TSIG digests.
 * Only hostname-like labels are accepted: no escapes, no spaces, no non-ASCII.
 */
export function encodeName(name: string, canonical = false): Buffer {
  const text = name.endsWith('.') ? name.slice(0, -1) : name;
  const labels = text === '' ? [] : text.split('.');
  const parts: Buffer[] = [];
  for (const label of labels) {
    if (label === '') throw new RangeError(`empty label in domain name "${name}"`);
    if (label.length > MAX_LABEL_LENGTH) throw new RangeError(`label longer than ${MAX_LABEL_LENGTH} bytes in "${name}"`);
    if (!/^[\x21-\x7e]+$/.test(label) || /["\\()]/.test(label)) throw new RangeError(`unsupported character in domain name "${name}"`);
    parts.push(Buffer.from([label.length]), Buffer.from(canonical ? label.toLowerCase() : label, 'ascii'));
  }
  parts.push(Buffer.from([0]));
  const wire = Buffer.concat(parts);
  if (wire.length > MAX_NAME_LENGTH) throw new RangeError(`domain name longer than ${MAX_NAME_LENGTH} bytes: "${name}"`);
  return wire;
}

/** `name` as an absolute, lower-case name with its trailing dot, for comparisons. */
export function canonicalName(name: string): string {
  const lower = name.toLowerCase();
  if (lower === '' || lower === '.') return '.';
  return lower.endsWith('.') ? lower : `${lower}.`;
}

function labelText(bytes: Buffer): string {
  let text = '';
  for (const byte of bytes) {
    // Escape what would otherwise be ambiguous in presentation form (RFC 1035 §5.1).
    if (byte === 0x2e || byte === 0x5c) text += `\\${String.fromCharCode(byte)}`;
    else if (byte > 0x20 && byte < 0x7f) text += String.fromCharCode(byte);
    else text += `\\${byte.toString().padStart(3, '0')}`;
  }
  return text;
}

/**
 * Reads a possibly compressed name at `offset`. Returns it in presentation form with a trailing dot
 * and the offset just past the name where it is stored (not where a pointer led).
 */
export function readName(buf: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let position = offset;
  let end: number | undefined;
  let wireLength = 1;
  for (;;) {
    if (position >= buf.length) throw new DnsFormatError('name runs past the end of the message');
    const length = buf[position];
    if ((length & 0xc0) === 0xc0) {
      if (position + 1 >= buf.length) throw new DnsFormatError('truncated compression pointer');
      const target = ((length & 0x3f) << 8) | buf[position + 1];
      // Only backward pointers: this rules out loops.
      if (target >= position) throw new DnsFormatError('forward compression pointer');
      end ??= position + 2;
      position = target;
      continue;
    }
    if (length & 0xc0) throw new DnsFormatError(`unsupported label type 0x${length.toString(16)}`);
    if (length === 0) break;
    if (position + 1 + length > buf.length) throw new DnsFormatError('label runs past the end of the message');
    wireLength += length + 1;
    if (wireLength > MAX_NAME_LENGTH) throw new DnsFormatError('name longer than 255 bytes');
    labels.push(labelText(buf.subarray(position + 1, position + 1 + length)));
    position += length + 1;
  }
  return { name: labels.length === 0 ? '.' : `${labels.join('.')}.`, end: end ?? position + 1 };
}

// ---------------------------------------------------------------------------------------------
// Messages

function u16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(value);
  return b;
}

export function encodeQuestion(q: Question): Buffer {
  return Buffer.concat([encodeName(q.name), u16(q.type), u16(q.class)]);
}

export function encodeRecord(r: RecordInput): Buffer {
  if (r.rdata.length > 0xffff) throw new RangeError('RDATA longer than 65535 bytes');
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(r.type, 0);
  fixed.writeUInt16BE(r.class, 2);
  fixed.writeUInt32BE(r.ttl, 4);
  fixed.writeUInt16BE(r.rdata.length, 8);
  return Buffer.concat([encodeName(r.name), fixed, r.rdata]);
}

/** Encodes a message without name compression (servers accept either; it keeps RDATA names literal). */
export function encodeMessage(m: MessageInput): Buffer {
  const answers = m.answers ?? [];
  const authorities = m.authorities ?? [];
  const additionals = m.additionals ?? [];
  const header = Buffer.alloc(HEADER_LENGTH);
  header.writeUInt16BE(m.id, 0);
  header.writeUInt16BE(((m.flags ?? 0) & ~0x7800) | ((m.opcode & 0xf) << 11), 2);
  header.writeUInt16BE(m.questions.length, 4);
  header.writeUInt16BE(answers.length, 6);
  header.writeUInt16BE(authorities.length, 8);
  header.writeUInt16BE(additionals.length, 10);
  return Buffer.concat([
    header,
    ...m.questions.map(encodeQuestion),
    ...answers.map(encodeRecord),
    ...authorities.map(encodeRecord),
    ...additionals.map(encodeRecord),
  ]);
}

function readRecord(buf: Buffer, offset: number): ResourceRecord {
  const { name, end: fixedStart } = readName(buf, offset);
  if (fixedStart + 10 > buf.length) throw new DnsFormatError('record header runs past the end of the message');
  const rdLength = buf.readUInt16BE(fixedStart + 8);
  const rdataStart = fixedStart + 10;
  const end = rdataStart + rdLength;
  if (end > buf.length) throw new DnsFormatError('RDATA runs past the end of the message');
  return {
    name,
    type: buf.readUInt16BE(fixedStart),
    class: buf.readUInt16BE(fixedStart + 2),
    ttl: buf.readUInt32BE(fixedStart + 4),
    rdata: buf.subarray(rdataStart, end),
    start: offset,
    rdataStart,
    end,
  };
}

/** Decodes a whole message; trailing bytes after the last record are a format error. */
export function parseMessage(buf: Buffer): DnsMessage {
  if (buf.length < HEADER_LENGTH) throw new DnsFormatError(`message shorter than its ${HEADER_LENGTH}-byte header`);
  const flags = buf.readUInt16BE(2);
  let offset = HEADER_LENGTH;
  const questions: Question[] = [];
  for (let i = buf.readUInt16BE(4); i > 0; i--) {
    const { name, end } = readName(buf, offset);
    if (end + 4 > buf.length) throw new DnsFormatError('question runs past the end of the message');
    questions.push({ name, type: buf.readUInt16BE(end), class: buf.readUInt16BE(end + 2) });
    offset = end + 4;
  }
  const section = (count: number): ResourceRecord[] => {
    const records: ResourceRecord[] = [];
    for (let i = count; i > 0; i--) {
      const record = readRecord(buf, offset);
      records.push(record);
      offset = record.end;
    }
    return records;
  };
  const answers = section(buf.readUInt16BE(6));
  const authorities = section(buf.readUInt16BE(8));
  const additionals = section(buf.readUInt16BE(10));
  if (offset !== buf.length) throw new DnsFormatError(`${buf.length - offset} unexpected bytes after the last record`);
  return {
    id: buf.readUInt16BE(0),
    response: (flags & FLAG_QR) !== 0,
    opcode: (flags >> 11) & 0xf,
    rcode: flags & 0xf,
    flags,
    questions,
    answers,
    authorities,
    additionals,
  };
}

// ---------------------------------------------------------------------------------------------
// RDATA

/** RDATA of an A record. */
export function encodeIPv4(address: string): Buffer {
  if (!isIPv4(address)) throw new RangeError(`not an IPv4 address: "${address}"`);
  return Buffer.from(address.split('.').map(Number));
}

/** RDATA of an AAAA record; accepts every RFC 4291 text form, including an embedded IPv4 tail. */
export function encodeIPv6(address: string): Buffer {
  if (!isIPv6(address) || address.includes('%')) throw new RangeError(`not an IPv6 address: "${address}"`);
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = encodeIPv4(v4[1]);
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const left = groups(head);
  const right = groups(tail);
  const all = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const out = Buffer.alloc(16);
  all.forEach((group, i) => out.writeUInt16BE(parseInt(group, 16), i * 2));
  return out;
}

export function formatIPv4(rdata: Buffer): string {
  if (rdata.length !== 4) throw new DnsFormatError(`A RDATA of ${rdata.length} bytes`);
  return [...rdata].join('.');
}

/** RFC 5952 text: lower-case hex, no leading zeros, the first longest run of 2+ zero groups as "::". */
export function formatIPv6(rdata: Buffer): string {
  if (rdata.length !== 16) throw new DnsFormatError(`AAAA RDATA of ${rdata.length} bytes`);
  const groups = Array.from({ length: 8 }, (_, i) => rdata.readUInt16BE(i * 2));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

export interface SrvData {
  readonly priority: number;
  readonly weight: number;
  readonly port: number;
  readonly target: string;
}

function checkU16(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw new RangeError(`SRV ${what} must be an integer in 0..65535, got ${value}`);
  return value;
}

/** RDATA of an SRV record (RFC 2782); the target is never compressed. */
export function encodeSrv(srv: SrvData): Buffer {
  const fixed = Buffer.alloc(6);
  fixed.writeUInt16BE(checkU16(srv.priority, 'priority'), 0);
  fixed.writeUInt16BE(checkU16(srv.weight, 'weight'), 2);
  fixed.writeUInt16BE(checkU16(srv.port, 'port'), 4);
  return Buffer.concat([fixed, encodeName(srv.target)]);
}

/** Decodes the SRV record `record` of `message` (its target may be compressed by some servers). */
export function decodeSrv(message: Buffer, record: ResourceRecord): SrvData {
  if (record.rdata.length < 7) throw new DnsFormatError(`SRV RDATA of ${record.rdata.length} bytes`);
  const { name, end } = readName(message, record.rdataStart + 6);
  if (end !== record.end) throw new DnsFormatError('SRV RDATA length does not match its contents');
  return { priority: record.rdata.readUInt16BE(0), weight: record.rdata.readUInt16BE(2), port: record.rdata.readUInt16BE(4), target: name };
}
