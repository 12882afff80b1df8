import { createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalName, DnsFormatError, encodeName, parseMessage, readName, type ResourceRecord, RRClass, RRType } from './wire.js';

/*
 * TSIG (RFC 8945) for one request and its single reply, HMAC-SHA256 only. Multi-message exchanges
 * (zone transfers) and MAC truncation are not needed for dynamic updates and are not supported.
 */

export type TsigAlgorithm = 'hmac-sha256';

export interface TsigKey {
  /** Key name as configured on the server (`key "vigil-key" {...}`); compared case-insensitively. */
  readonly name: string;
  readonly algorithm: TsigAlgorithm;
  readonly secret: Buffer;
}

/** Seconds of clock skew tolerated on either side (RFC 8945 §10 recommends 300). */
export const TSIG_FUDGE_SECONDS = 300;

const ALGORITHM_NAMES: Record<TsigAlgorithm, string> = { 'hmac-sha256': 'hmac-sha256.' };
const MAC_LENGTH: Record<TsigAlgorithm, number> = { 'hmac-sha256': 32 };

/** TSIG error codes (RFC 8945 §3, RFC 2930), carried in the TSIG RR's Error field. */
export const TSIG_ERROR_NAMES: Readonly<Record<number, string>> = {
  16: 'BADSIG',
  17: 'BADKEY',
  18: 'BADTIME',
  19: 'BADMODE',
  20: 'BADNAME',
  21: 'BADALG',
  22: 'BADTRUNC',
};

export function tsigErrorName(code: number): string {
  return TSIG_ERROR_NAMES[code] ?? `TSIG_ERROR_${code}`;
}

/**
 * A reply failed TSIG processing.
 *
 * `reportedByServer` tells the two cases apart: true when the server put a TSIG error in its reply
 * (it rejected our request: `code` is its BADSIG/BADKEY/BADTIME...), false when the reply itself did
 * not check out here (`code` names the check that failed: BADSIG for a wrong MAC, BADKEY for another
 * key or algorithm, BADTIME for a stale signature, BADTRUNC for a short MAC, UNSIGNED, FORMERR).
 */
export class TsigError extends Error {
  override readonly name = 'TsigError';
  constructor(
    readonly code: string,
    readonly reportedByServer: boolean,
    message: string,
    /** For server-reported errors: whether the reply carrying the error was signed and verified. */
    readonly authenticated = false,
  ) {
    super(message);
  }
}

/** The fields of a TSIG RR (RFC 8945 §4.2). */
export interface TsigRecord {
  readonly keyName: string;
  readonly algorithm: string;
  /** Seconds since the epoch (48 bits on the wire). */
  readonly timeSigned: number;
  readonly fudge: number;
  readonly mac: Buffer;
  readonly originalId: number;
  readonly error: number;
  readonly otherData: Buffer;
}

/** A signed request, with what is needed to verify its reply. */
export interface SignedRequest {
  readonly wire: Buffer;
  readonly key: TsigKey;
  readonly mac: Buffer;
  readonly originalId: number;
  readonly timeSigned: number;
}

export interface SignOptions {
  /** Seconds since the epoch; default now. */
  readonly timeSigned?: number;
  readonly fudge?: number;
}

export interface VerifyOptions {
  /** Seconds since the epoch to check the reply's time against; default now. */
  readonly now?: number;
}

export interface VerifiedResponse {
  readonly tsig: TsigRecord;
  /** The reply as it was signed: without its TSIG RR, ARCOUNT decremented, original ID restored. */
  readonly message: Buffer;
}

/** Decodes a base64 TSIG secret (the `secret "..."` of a BIND key), strictly: a typo must not yield another key. */
export function parseTsigSecret(base64: string): Buffer {
  const text = base64.replace(/\s+/g, '');
  if (text.length === 0 || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
    throw new RangeError('TSIG secret is not valid base64');
  }
  const secret = Buffer.from(text, 'base64');
  // Buffer.from ignores non-zero bits left over in the last character; a round trip catches them.
  if (secret.toString('base64') !== text) throw new RangeError('TSIG secret is not canonical base64');
  return secret;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function uint48(value: number): Buffer {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** 48) throw new RangeError(`TSIG time ${value} does not fit 48 bits`);
  const b = Buffer.alloc(6);
  b.writeUIntBE(value, 0, 6);
  return b;
}

function uint16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(value);
  return b;
}

/** TSIG variables as digested (RFC 8945 §4.3.3): names canonical and uncompressed, class ANY, TTL 0. */
function tsigVariables(v: Pick<TsigRecord, 'keyName' | 'algorithm' | 'timeSigned' | 'fudge' | 'error' | 'otherData'>): Buffer {
  const classAndTtl = Buffer.alloc(6);
  classAndTtl.writeUInt16BE(RRClass.ANY, 0); // TTL stays 0
  return Buffer.concat([
    encodeName(v.keyName, true),
    classAndTtl,
    encodeName(v.algorithm, true),
    uint48(v.timeSigned),
    uint16(v.fudge),
    uint16(v.error),
    uint16(v.otherData.length),
    v.otherData,
  ]);
}

function hmac(key: TsigKey, parts: Buffer[]): Buffer {
  if (key.algorithm !== 'hmac-sha256') throw new RangeError(`unsupported TSIG algorithm ${String(key.algorithm)}`);
  const h = createHmac('sha256', key.secret);
  for (const part of parts) h.update(part);
  return h.digest();
}

function encodeTsigRecord(t: TsigRecord): Buffer {
  const rdata = Buffer.concat([
    encodeName(t.algorithm, true),
    uint48(t.timeSigned),
    uint16(t.fudge),
    uint16(t.mac.length),
    t.mac,
    uint16(t.originalId),
    uint16(t.error),
    uint16(t.otherData.length),
    t.otherData,
  ]);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(RRType.TSIG, 0);
  fixed.writeUInt16BE(RRClass.ANY, 2);
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([encodeName(t.keyName, true), fixed, rdata]);
}

/**
 * Signs a complete request (RFC 8945 §4.3.1): the MAC covers the message as given plus the TSIG
 * variables; the TSIG RR is appended as the last additional record and ARCOUNT incremented.
 */
export function signRequest(message: Buffer, key: TsigKey, options: SignOptions = {}): SignedRequest {
  if (message.length < 12) throw new RangeError('DNS message shorter than its header');
  const fields = {
    keyName: canonicalName(key.name),
    algorithm: ALGORITHM_NAMES[key.algorithm],
    timeSigned: options.timeSigned ?? nowSeconds(),
    fudge: options.fudge ?? TSIG_FUDGE_SECONDS,
    error: 0,
    otherData: Buffer.alloc(0),
  };
  const mac = hmac(key, [message, tsigVariables(fields)]);
  const originalId = message.readUInt16BE(0);
  const wire = Buffer.concat([message, encodeTsigRecord({ ...fields, mac, originalId })]);
  wire.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  return { wire, key, mac, originalId, timeSigned: fields.timeSigned };
}

/** Decodes the RDATA of a TSIG RR; the algorithm name is read with the whole message for pointers. */
export function decodeTsigRecord(message: Buffer, record: ResourceRecord): TsigRecord {
  const { name: algorithm, end: afterAlgorithm } = readName(message, record.rdataStart);
  let at = afterAlgorithm;
  const need = (n: number) => {
    if (at + n > record.end) throw new DnsFormatError('TSIG RDATA shorter than its fields');
  };
  need(10);
  const timeSigned = message.readUIntBE(at, 6);
  const fudge = message.readUInt16BE(at + 6);
  const macSize = message.readUInt16BE(at + 8);
  at += 10;
  need(macSize);
  const mac = Buffer.from(message.subarray(at, at + macSize));
  at += macSize;
  need(6);
  const originalId = message.readUInt16BE(at);
  const error = message.readUInt16BE(at + 2);
  const otherLength = message.readUInt16BE(at + 4);
  at += 6;
  need(otherLength);
  const otherData = Buffer.from(message.subarray(at, at + otherLength));
  if (at + otherLength !== record.end) throw new DnsFormatError('TSIG RDATA longer than its fields');
  return { keyName: record.name, algorithm, timeSigned, fudge, mac, originalId, error, otherData };
}

/**
 * Finds the TSIG RR of a message. RFC 8945 §5.2 allows exactly one, as the last additional record;
 * anything else is a format error. Returns undefined for an unsigned message.
 */
export function findTsig(message: Buffer): { tsig: TsigRecord; record: ResourceRecord } | undefined {
  const parsed = parseMessage(message);
  const records = [...parsed.answers, ...parsed.authorities, ...parsed.additionals];
  const tsigs = records.filter((r) => r.type === RRType.TSIG);
  if (tsigs.length === 0) return undefined;
  const last = parsed.additionals.at(-1);
  if (!last || tsigs.length > 1 || tsigs[0] !== last) throw new DnsFormatError('TSIG RR is not the only and last additional record');
  if (last.class !== RRClass.ANY || last.ttl !== 0) throw new DnsFormatError('TSIG RR class is not ANY or its TTL not 0');
  return { tsig: decodeTsigRecord(message, last), record: last };
}

/** The message as it was before the TSIG RR was added: cut off, ARCOUNT decremented, original ID back. */
function unsignedForm(message: Buffer, record: ResourceRecord, originalId: number): Buffer {
  const stripped = Buffer.from(message.subarray(0, record.start));
  stripped.writeUInt16BE(originalId, 0);
  stripped.writeUInt16BE(message.readUInt16BE(10) - 1, 10);
  return stripped;
}

function skewText(tsig: TsigRecord): string {
  if (tsig.otherData.length !== 6) return '';
  // With BADTIME the server puts its own clock in Other Data (RFC 8945 §5.2.3).
  const serverTime = tsig.otherData.readUIntBE(0, 6);
  return ` (server clock ${serverTime}, ${serverTime - tsig.timeSigned} s from ours)`;
}

/**
 * Verifies the reply to `request` (RFC 8945 §5.3) in the RFC's order: key, MAC, then time. The MAC
 * covers the request MAC (length-prefixed), the reply without its TSIG RR, and the reply's TSIG
 * variables. Throws a TsigError when the reply is unsigned, forged or stale, or when it reports a TSIG
 * error. A reply that reports an error is never treated as a success, signed or not: servers answer
 * BADKEY and BADSIG unsigned because they cannot sign with a key they could not use.
 */
export function verifyResponse(response: Buffer, request: SignedRequest, options: VerifyOptions = {}): VerifiedResponse {
  let found: ReturnType<typeof findTsig>;
  try {
    found = findTsig(response);
  } catch (err) {
    throw new TsigError('FORMERR', false, `malformed signed reply: ${(err as Error).message}`);
  }
  if (!found) throw new TsigError('UNSIGNED', false, 'reply to a signed request carries no TSIG record');
  const { tsig, record } = found;
  const keyName = canonicalName(request.key.name);
  if (canonicalName(tsig.keyName) !== keyName) throw new TsigError('BADKEY', false, `reply signed with key ${tsig.keyName}, expected ${keyName}`);
  const algorithm = ALGORITHM_NAMES[request.key.algorithm];
  if (canonicalName(tsig.algorithm) !== algorithm) throw new TsigError('BADKEY', false, `reply signed with algorithm ${tsig.algorithm}, expected ${algorithm}`);

  if (tsig.mac.length === 0) {
    if (tsig.error !== 0) {
      const code = tsigErrorName(tsig.error);
      throw new TsigError(code, true, `server rejected the request signature with key ${keyName}: ${code}`);
    }
    throw new TsigError('UNSIGNED', false, 'reply carries a TSIG record without a MAC');
  }
  // We always send a full-length MAC, and a reply's MAC may not be shorter than the request's (§5.2.2.1).
  if (tsig.mac.length !== MAC_LENGTH[request.key.algorithm]) {
    throw new TsigError('BADTRUNC', false, `reply MAC is ${tsig.mac.length} bytes, expected ${MAC_LENGTH[request.key.algorithm]}`);
  }

  const message = unsignedForm(response, record, tsig.originalId);
  const expected = hmac(request.key, [uint16(request.mac.length), request.mac, message, tsigVariables(tsig)]);
  if (!timingSafeEqual(expected, tsig.mac)) throw new TsigError('BADSIG', false, `reply MAC does not verify with key ${keyName}`);

  if (tsig.error !== 0) {
    const code = tsigErrorName(tsig.error);
    throw new TsigError(code, true, `server rejected the request signature with key ${keyName}: ${code}${code === 'BADTIME' ? skewText(tsig) : ''}`, true);
  }
  const now = options.now ?? nowSeconds();
  if (Math.abs(now - tsig.timeSigned) > tsig.fudge) {
    throw new TsigError('BADTIME', false, `reply signed at ${tsig.timeSigned}, ${now - tsig.timeSigned} s from our clock (fudge ${tsig.fudge} s)`);
  }
  return { tsig, message };
}
