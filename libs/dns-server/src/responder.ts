/**
 * Authoritative answers for one zone, from query bytes to reply bytes.
 *
 * The hot path does not decode the query into objects: it reads the header, lower-cases the question name
 * into a scratch buffer, scans the additional section for an OPT record, and looks the name up in the
 * compiled zone. Positive answers are encoded once per (name, type, class IN/ANY, EDNS yes/no) and kept on
 * the zone node; a reply is a copy of that with the query's ID, RD and CD bits and question-name spelling
 * patched in (names in the answer are compression pointers to the question, so they echo the client's case
 * too). NXDOMAIN and NODATA replies are assembled from the query's own header and question plus a
 * precomputed SOA tail, so unknown names do not grow any cache. The compiled zone and its caches belong to
 * one `ZoneData` object: a new object starts from scratch.
 *
 * Choices where the RFCs leave room (compare BIND as an authoritative-only server):
 * - QCLASS other than IN or ANY → REFUSED (no zone of that class is served here). Records are class IN.
 * - AXFR/IXFR → REFUSED (no zone transfers); MAILA/MAILB → NOTIMP; QTYPE OPT → FORMERR.
 * - Opcode other than QUERY → NOTIMP, echoing the opcode and, when it parses, the first question.
 * - QDCOUNT ≠ 1, an unparseable question or a malformed record after it (including a second OPT or an OPT
 *   not owned by the root) → FORMERR. Fewer than 12 bytes, or QR=1 → no reply at all.
 * - EDNS version > 0 → BADVERS (extended RCODE 16) with an OPT of version 0.
 * - Positive answers carry no authority section (minimal responses); the SRV and NS answers carry the
 *   target's in-zone addresses in the additional section.
 * - A CNAME (a master known by hostname) is followed inside the zone, as RFC 1034 §4.3.2 says.
 * - RA is never set; the DO bit and EDNS options (cookies, client subnet, …) are ignored.
 */
import {
  CLASS_ANY,
  CLASS_IN,
  EDNS_UDP_PAYLOAD,
  TYPE_A,
  TYPE_AAAA,
  TYPE_ANY,
  TYPE_AXFR,
  TYPE_CNAME,
  TYPE_IXFR,
  TYPE_MAILA,
  TYPE_MAILB,
  TYPE_NS,
  TYPE_OPT,
  TYPE_SRV,
  ZoneDataError,
  isInZone,
  optRecord,
  CompiledZone,
  type ResourceRecord,
  type ZoneData,
  type ZoneNode,
} from './zone.js';
import { MessageWriter } from './wire.js';

export type DnsTransport = 'udp' | 'tcp';

export const RCODE_NOERROR = 0;
export const RCODE_FORMERR = 1;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;
export const RCODE_NOTIMP = 4;
export const RCODE_REFUSED = 5;
/** Extended RCODE 16: the upper 8 bits (1) go in the OPT record, the lower 4 (0) in the header. */
export const RCODE_BADVERS = 16;

/** Largest UDP reply to a client without EDNS (RFC 1035). */
export const UDP_MIN_PAYLOAD = 512;
/** Upper bound on the client's advertised EDNS UDP payload size that is honoured. */
export const UDP_MAX_PAYLOAD = 4096;
const TCP_MAX_MESSAGE = 65_535;

// Header flags, byte 2 and byte 3.
const QR = 0x80;
const AA = 0x04;
const TC = 0x02;
const RD = 0x01;
const CD = 0x10;

const OPT = optRecord(0);
const OPT_BADVERS = optRecord(RCODE_BADVERS >> 4);

/** Longest chain of in-zone CNAMEs followed. */
const MAX_CNAME_HOPS = 8;

// Parse state of the query being answered (answerQuery is synchronous and never re-entered).
const qname = Buffer.allocUnsafe(256);
let qnameLength = 0;
/** Offset just past QCLASS. */
let questionEnd = 0;
let edns = false;
let ednsVersion = 0;
let udpLimit = UDP_MIN_PAYLOAD;

const compiledZones = new WeakMap<ZoneData, CompiledZone | ZoneDataError>();
let lastZone: ZoneData | null = null;
let lastCompiled: CompiledZone | null = null;

/** The compiled form of `zone`, built on first use and kept as long as the object lives (exported for tests). */
export function compiledZone(zone: ZoneData): CompiledZone {
  if (zone === lastZone) return lastCompiled!;
  let compiled = compiledZones.get(zone);
  if (compiled === undefined) {
    try {
      compiled = new CompiledZone(zone, lastCompiled ?? undefined);
    } catch (err) {
      if (!(err instanceof ZoneDataError)) throw err;
      compiled = err;
    }
    compiledZones.set(zone, compiled);
  }
  if (compiled instanceof ZoneDataError) throw compiled;
  lastZone = zone;
  lastCompiled = compiled;
  return compiled;
}

/**
 * The reply to one DNS message, or null when it gets none (shorter than a header, or a response itself).
 * Never throws on malformed input; throws `ZoneDataError` when `zone` cannot be served at all (see
 * `validateZoneData`). Over UDP the reply fits the client's limit (512 bytes, or its EDNS payload size
 * between 512 and 4096); an answer that does not is replaced by a truncated reply (TC, question only).
 */
export function answerQuery(query: Buffer, zone: ZoneData, transport: DnsTransport): Buffer | null {
  if (query.length < 12 || (query[2] & QR) !== 0) return null;
  const opcode = (query[2] >> 3) & 0x0f;
  const hasQuestion = ((query[4] << 8) | query[5]) === 1 && parseQuestion(query);
  if (opcode !== 0) return simpleReply(query, opcode, RCODE_NOTIMP, hasQuestion, hasQuestion && parseRecords(query) && edns);
  if (!hasQuestion || !parseRecords(query)) return simpleReply(query, 0, RCODE_FORMERR, hasQuestion, false);
  if (edns && ednsVersion > 0) return simpleReply(query, 0, RCODE_BADVERS & 0x0f, true, true, OPT_BADVERS);
  const qtype = (query[questionEnd - 4] << 8) | query[questionEnd - 3];
  const qclass = (query[questionEnd - 2] << 8) | query[questionEnd - 1];
  if (qclass !== CLASS_IN && qclass !== CLASS_ANY) return simpleReply(query, 0, RCODE_REFUSED, true, edns);
  if (qtype === TYPE_OPT) return simpleReply(query, 0, RCODE_FORMERR, true, edns);

  const compiled = compiledZone(zone);
  const limit = transport === 'tcp' ? TCP_MAX_MESSAGE : udpLimit;
  const key = qname.toString('latin1', 0, qnameLength);
  const answerKey = (qtype << 2) | (qclass === CLASS_ANY ? 2 : 0) | (edns ? 1 : 0);
  const cached = compiled.nodes.get(key)?.answers?.get(answerKey);
  if (cached !== undefined) return cached.length <= limit ? fromCache(query, cached) : truncatedReply(query, cached[3] & 0x0f);

  // Not cached: names outside the zone, special query types, negative answers, or a first positive answer.
  const node = compiled.find(key);
  if (node === undefined && !compiled.contains(key)) return simpleReply(query, 0, RCODE_REFUSED, true, edns);
  if (node?.servfail === true) return simpleReply(query, 0, RCODE_SERVFAIL, true, edns);
  if (qtype === TYPE_AXFR || qtype === TYPE_IXFR) return simpleReply(query, 0, RCODE_REFUSED, true, edns);
  if (qtype === TYPE_MAILA || qtype === TYPE_MAILB) return simpleReply(query, 0, RCODE_NOTIMP, true, edns);
  let reply: Buffer;
  if (node === undefined) {
    reply = negativeReply(query, compiled, RCODE_NXDOMAIN);
  } else if (node.cname === null && qtype !== TYPE_ANY && qtype !== TYPE_CNAME && !node.rrsets.has(qtype)) {
    reply = negativeReply(query, compiled, RCODE_NOERROR);
  } else {
    let encoded = node.answers?.get(answerKey);
    if (encoded === undefined) {
      const result = resolve(compiled, node, qtype);
      if (result.answer.length === 0) return sized(negativeReply(query, compiled, result.rcode), query, limit);
      encoded = encodeAnswer(Buffer.from(qname.subarray(0, qnameLength)), qtype, qclass, result);
      // Kept for the types the name holds, and the usual ones a CNAME answers for; a CNAME answers any
      // type, and caching every one of them would let queries grow the cache without bound.
      if (node.rrsets.has(qtype) || qtype === TYPE_A || qtype === TYPE_AAAA || qtype === TYPE_CNAME || qtype === TYPE_ANY) {
        (node.answers ??= new Map()).set(answerKey, encoded);
      }
    }
    reply = fromCache(query, encoded);
  }
  return sized(reply, query, limit);
}

/** `reply`, or the truncated reply when it is longer than `limit`. */
function sized(reply: Buffer, query: Buffer, limit: number): Buffer {
  return reply.length <= limit ? reply : truncatedReply(query, reply[3] & 0x0f);
}

/**
 * Reads the single question at offset 12 into the parse state. False when it is malformed: truncated, a
 * compression pointer (nothing precedes the question to point at), a reserved label type, or longer than
 * 255 bytes.
 */
function parseQuestion(query: Buffer): boolean {
  const end = query.length;
  let p = 12;
  let n = 0;
  for (;;) {
    if (p >= end) return false;
    const len = query[p];
    if (len === 0) break;
    if (len > 63 || n + len + 2 > 255 || p + 1 + len > end) return false;
    qname[n++] = len;
    p++;
    for (const stop = p + len; p < stop; p++) {
      const c = query[p];
      qname[n++] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
    }
  }
  qname[n++] = 0;
  p++;
  if (p + 4 > end) return false;
  qnameLength = n;
  questionEnd = p + 4;
  return true;
}

/** Skips a possibly compressed name; the offset after it, or -1. Pointers are not followed (no loops). */
function skipName(buf: Buffer, p: number): number {
  for (;;) {
    if (p >= buf.length) return -1;
    const len = buf[p];
    if (len === 0) return p + 1;
    if ((len & 0xc0) === 0xc0) return p + 2 <= buf.length ? p + 2 : -1;
    if (len > 63) return -1;
    p += len + 1;
  }
}

/**
 * Walks the answer, authority and additional sections after the question, looking for the OPT record.
 * Sets `edns`, `ednsVersion` and `udpLimit`. False when a record is truncated or the OPT record is
 * repeated or not owned by the root. Bytes after the last record are ignored.
 */
function parseRecords(query: Buffer): boolean {
  edns = false;
  ednsVersion = 0;
  udpLimit = UDP_MIN_PAYLOAD;
  const before = ((query[6] << 8) | query[7]) + ((query[8] << 8) | query[9]);
  const total = before + ((query[10] << 8) | query[11]);
  let p = questionEnd;
  for (let i = 0; i < total; i++) {
    const start = p;
    p = skipName(query, p);
    if (p < 0 || p + 10 > query.length) return false;
    const type = (query[p] << 8) | query[p + 1];
    const rdlength = (query[p + 8] << 8) | query[p + 9];
    if (type === TYPE_OPT && i >= before) {
      if (edns || p !== start + 1 || query[start] !== 0) return false;
      edns = true;
      const payload = (query[p + 2] << 8) | query[p + 3];
      udpLimit = payload < UDP_MIN_PAYLOAD ? UDP_MIN_PAYLOAD : payload > UDP_MAX_PAYLOAD ? UDP_MAX_PAYLOAD : payload;
      ednsVersion = query[p + 5];
    }
    p += 10 + rdlength;
    if (p > query.length) return false;
  }
  return true;
}

/** A copy of a cached answer with the query's ID, RD and CD bits and question-name spelling. */
function fromCache(query: Buffer, cached: Buffer): Buffer {
  const out = Buffer.allocUnsafe(cached.length);
  cached.copy(out);
  out[0] = query[0];
  out[1] = query[1];
  out[2] |= query[2] & RD;
  out[3] |= query[3] & CD;
  query.copy(out, 12, 12, 12 + qnameLength);
  return out;
}

/** Header (QR set, ID, RD and CD echoed) plus, optionally, the query's question and an OPT record. */
function simpleReply(query: Buffer, opcode: number, rcode: number, withQuestion: boolean, withOpt: boolean, opt = OPT, flags = 0): Buffer {
  const questionLength = withQuestion ? questionEnd - 12 : 0;
  const out = Buffer.alloc(12 + questionLength + (withOpt ? opt.length : 0));
  out[0] = query[0];
  out[1] = query[1];
  out[2] = QR | (opcode << 3) | flags | (query[2] & RD);
  out[3] = (query[3] & CD) | rcode;
  out[5] = withQuestion ? 1 : 0;
  out[11] = withOpt ? 1 : 0;
  if (withQuestion) query.copy(out, 12, 12, questionEnd);
  if (withOpt) opt.copy(out, 12 + questionLength);
  return out;
}

/** The reply to an answer too large for the transport: TC set, question (and OPT) only. */
function truncatedReply(query: Buffer, rcode: number): Buffer {
  return simpleReply(query, 0, rcode, true, edns, OPT, AA | TC);
}

/** NXDOMAIN or NODATA: the query's header and question, then the SOA (and OPT) tail. */
function negativeReply(query: Buffer, compiled: CompiledZone, rcode: number): Buffer {
  const tail = compiled.negativeTail[edns ? 1 : 0];
  const out = Buffer.allocUnsafe(questionEnd + tail.length);
  query.copy(out, 0, 0, questionEnd);
  out[2] = QR | AA | (query[2] & RD);
  out[3] = (query[3] & CD) | rcode;
  out.fill(0, 4, 12);
  out[5] = 1;
  out[9] = 1;
  out[11] = edns ? 1 : 0;
  tail.copy(out, questionEnd);
  return out;
}

interface Resolution {
  rcode: number;
  answer: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
}

function resolve(compiled: CompiledZone, start: ZoneNode, qtype: number): Resolution {
  const answer: ResourceRecord[] = [];
  const visited = new Set<ZoneNode>();
  let node = start;
  for (;;) {
    visited.add(node);
    if (node.cname && qtype !== TYPE_CNAME) {
      answer.push(node.cname);
      const target = node.cname.rdata.kind === 'name' ? node.cname.rdata.name : null;
      if (qtype === TYPE_ANY || !target || visited.size > MAX_CNAME_HOPS || !isInZone(target, compiled.apex)) break;
      const next = compiled.find(target.toString('latin1'));
      if (next === undefined) return { rcode: RCODE_NXDOMAIN, answer, authority: [compiled.soa], additional: [] };
      if (visited.has(next)) break;
      node = next;
      continue;
    }
    const found =
      qtype === TYPE_ANY ? [...node.rrsets.values()].flat() : qtype === TYPE_CNAME ? (node.cname ? [node.cname] : []) : (node.rrsets.get(qtype) ?? []);
    if (found.length === 0) return { rcode: RCODE_NOERROR, answer, authority: [compiled.soa], additional: [] };
    answer.push(...found);
    break;
  }
  return { rcode: RCODE_NOERROR, answer, authority: [], additional: additionalAddresses(compiled, answer) };
}

/** In-zone addresses of the NS and SRV targets in `answer` (RFC 1035 §3.3.11, RFC 2782). */
function additionalAddresses(compiled: CompiledZone, answer: ResourceRecord[]): ResourceRecord[] {
  const additional: ResourceRecord[] = [];
  const seen = new Set<ZoneNode>();
  for (const rr of answer) {
    const target = rr.type === TYPE_NS && rr.rdata.kind === 'name' ? rr.rdata.name : rr.type === TYPE_SRV && rr.rdata.kind === 'srv' ? rr.rdata.target : null;
    const node = target && compiled.find(target.toString('latin1'));
    if (!node || seen.has(node)) continue;
    seen.add(node);
    for (const type of [TYPE_A, TYPE_AAAA]) for (const address of node.rrsets.get(type) ?? []) if (!answer.includes(address)) additional.push(address);
  }
  return additional;
}

function encodeAnswer(name: Buffer, qtype: number, qclass: number, result: Resolution): Buffer {
  const w = new MessageWriter();
  w.header(QR | AA, result.rcode, 1, result.answer.length, result.authority.length, result.additional.length + (edns ? 1 : 0));
  w.question(name, qtype, qclass);
  for (const rr of result.answer) w.record(rr);
  for (const rr of result.authority) w.record(rr);
  for (const rr of result.additional) w.record(rr);
  if (edns) w.opt(EDNS_UDP_PAYLOAD, 0);
  return w.finish();
}

/**
 * SERVFAIL for a query that could not be answered (the zone could not be served); null when the message
 * gets no reply at all. Echoes the question when it parses.
 */
export function serverFailureReply(query: Buffer): Buffer | null {
  if (query.length < 12 || (query[2] & QR) !== 0) return null;
  const hasQuestion = ((query[4] << 8) | query[5]) === 1 && parseQuestion(query);
  return simpleReply(query, (query[2] >> 3) & 0x0f, RCODE_SERVFAIL, hasQuestion, false);
}
