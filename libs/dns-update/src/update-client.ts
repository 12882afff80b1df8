import { randomInt } from 'node:crypto';
import { connect } from 'node:net';
import { signRequest, type SignedRequest, TsigError, type TsigKey, verifyResponse } from './tsig.js';
import {
  canonicalName,
  decodeSrv,
  type DnsMessage,
  encodeIPv4,
  encodeIPv6,
  encodeMessage,
  encodeSrv,
  formatIPv4,
  formatIPv6,
  Opcode,
  parseMessage,
  rcodeName,
  type RecordInput,
  type ResourceRecord,
  RRClass,
  RRType,
  type SrvData,
} from './wire.js';

/** The primary server of a zone, and how to talk to it. */
export interface UpdateTarget {
  readonly server: string;
  readonly port: number;
  /** The zone the names belong to (the RFC 2136 zone section). */
  readonly zone: string;
  /** Signs requests and requires signed replies when given. */
  readonly key?: TsigKey;
  /** Bound on the whole exchange: connect, send, and the complete reply. Default 5000. */
  readonly timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 5000;

export type AddressType = 'A' | 'AAAA';

/**
 * Replace the RRset `name`/`type` by the single record `next`, provided it currently holds exactly
 * `expected` (`null`: whatever it holds; `[]`: it must not exist).
 */
export type RecordChange =
  | { readonly name: string; readonly type: AddressType; readonly ttl: number; readonly expected: readonly string[] | null; readonly next: string }
  | { readonly name: string; readonly type: 'SRV'; readonly ttl: number; readonly expected: readonly SrvData[] | null; readonly next: SrvData };

/**
 * An update or query that did not succeed.
 *
 * `rcode` is the server's RCODE mnemonic (NXRRSET, YXRRSET, NOTAUTH, REFUSED, SERVFAIL, NOTZONE...)
 * or one of our own: TIMEOUT, CONNECTION (refused, reset, closed early) and BADRESPONSE (a reply we
 * cannot trust: malformed, mismatched, or failing TSIG verification). `tsigError` names the TSIG
 * problem: with NOTAUTH, the error the server reported about our signature (BADKEY, BADSIG, BADTIME);
 * with BADRESPONSE, the check the reply's own signature failed here.
 */
export class DnsUpdateError extends Error {
  override readonly name = 'DnsUpdateError';
  readonly tsigError?: string;
  constructor(
    readonly rcode: string,
    message: string,
    options: { tsigError?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    if (options.tsigError !== undefined) this.tsigError = options.tsigError;
  }
}

const MAX_TTL = 0x7fffffff;

// ---------------------------------------------------------------------------------------------
// Messages

function changeRdata(change: RecordChange): { expected: Buffer[] | null; next: Buffer } {
  switch (change.type) {
    case 'A':
      return { expected: change.expected?.map(encodeIPv4) ?? null, next: encodeIPv4(change.next) };
    case 'AAAA':
      return { expected: change.expected?.map(encodeIPv6) ?? null, next: encodeIPv6(change.next) };
    case 'SRV':
      return { expected: change.expected?.map(encodeSrv) ?? null, next: encodeSrv(change.next) };
  }
}

/** The same address written twice would be one RR on the server; send it once. */
function distinct(rdatas: Buffer[]): Buffer[] {
  const seen = new Map(rdatas.map((r) => [r.toString('hex'), r]));
  return [...seen.values()];
}

/** RFC 2136 prerequisites (§2.4) that make the update conditional on the RRset's current state. */
function prerequisites(name: string, type: number, expected: Buffer[] | null): RecordInput[] {
  if (expected === null) return [];
  // "RRset does not exist": class NONE, TTL 0, no RDATA.
  if (expected.length === 0) return [{ name, type, class: RRClass.NONE, ttl: 0, rdata: Buffer.alloc(0) }];
  // "RRset exists (value dependent)": the server compares the whole RRset with exactly these RRs.
  return distinct(expected).map((rdata) => ({ name, type, class: RRClass.IN, ttl: 0, rdata }));
}

/** The UPDATE message for `change` (RFC 2136 §2): zone SOA, prerequisites, delete RRset then add. */
export function buildUpdateMessage(id: number, zone: string, change: RecordChange): Buffer {
  if (!Number.isInteger(change.ttl) || change.ttl < 0 || change.ttl > MAX_TTL)
    throw new RangeError(`TTL must be an integer in 0..${MAX_TTL}, got ${change.ttl}`);
  const type = RRType[change.type];
  const { expected, next } = changeRdata(change);
  return encodeMessage({
    id,
    opcode: Opcode.UPDATE,
    questions: [{ name: zone, type: RRType.SOA, class: RRClass.IN }],
    answers: prerequisites(change.name, type, expected),
    authorities: [
      // "Delete an RRset": class ANY, TTL 0, no RDATA; then the new RR. Both apply atomically.
      { name: change.name, type, class: RRClass.ANY, ttl: 0, rdata: Buffer.alloc(0) },
      { name: change.name, type, class: RRClass.IN, ttl: change.ttl, rdata: next },
    ],
  });
}

/** A plain, non-recursive query. */
export function buildQueryMessage(id: number, name: string, type: number): Buffer {
  return encodeMessage({ id, opcode: Opcode.QUERY, questions: [{ name, type, class: RRClass.IN }] });
}

// ---------------------------------------------------------------------------------------------
// Transport

function endpoint(target: UpdateTarget): string {
  return target.server.includes(':') ? `[${target.server}]:${target.port}` : `${target.server}:${target.port}`;
}

/**
 * Sends one message over TCP (RFC 1035 §4.2.2: two-byte length prefix) and resolves with the reply.
 * TCP rather than UDP: no lost datagram to retransmit around (an update resent after its first copy
 * was applied fails its prerequisites), no truncation, and a dead server shows as a refused connection.
 */
export function exchange(target: UpdateTarget, request: Buffer): Promise<Buffer> {
  if (request.length > 0xffff) return Promise.reject(new RangeError('DNS message longer than 65535 bytes'));
  const timeoutMs = target.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const where = endpoint(target);
  return new Promise<Buffer>((resolve, reject) => {
    const socket = connect({ host: target.server, port: target.port });
    let received = Buffer.alloc(0);
    let settled = false;
    const settle = (err: Error | undefined, reply?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(reply!);
    };
    const timer = setTimeout(() => settle(new DnsUpdateError('TIMEOUT', `no reply from ${where} within ${timeoutMs} ms`)), timeoutMs);
    socket.once('connect', () => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(request.length);
      // No half-close after the request: some servers take the client's FIN as a reason to drop the reply.
      socket.write(Buffer.concat([length, request]));
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 2) return;
      const length = received.readUInt16BE(0);
      if (received.length >= 2 + length) settle(undefined, received.subarray(2, 2 + length));
    });
    // `on`, not `once`: a second 'error' without a listener would be thrown at the process.
    socket.on('error', (err) => settle(new DnsUpdateError('CONNECTION', `DNS server ${where}: ${err.message}`, { cause: err })));
    socket.once('close', () => settle(new DnsUpdateError('CONNECTION', `DNS server ${where} closed the connection without a complete reply`)));
  });
}

/** Throws unless `reply` verifies against `request`, translating TSIG failures into DnsUpdateErrors. */
function checkSignature(target: UpdateTarget, wire: Buffer, reply: DnsMessage, request: SignedRequest): void {
  try {
    verifyResponse(wire, request);
  } catch (err) {
    if (!(err instanceof TsigError)) throw err;
    const where = endpoint(target);
    if (err.reportedByServer) {
      // RFC 8945 §5.2: every TSIG error is sent with RCODE NOTAUTH.
      throw new DnsUpdateError('NOTAUTH', `${where}: ${err.message}`, { tsigError: err.code, cause: err });
    }
    throw new DnsUpdateError('BADRESPONSE', `${where}: ${err.message} (the reply claims ${rcodeName(reply.rcode)})`, { tsigError: err.code, cause: err });
  }
}

/** Signs (when keyed), sends, and checks that the reply answers this very request. */
async function transact(target: UpdateTarget, message: Buffer): Promise<{ reply: DnsMessage; wire: Buffer }> {
  const signed = target.key ? signRequest(message, target.key) : undefined;
  const wire = await exchange(target, signed?.wire ?? message);
  const where = endpoint(target);
  let reply: DnsMessage;
  try {
    reply = parseMessage(wire);
  } catch (err) {
    throw new DnsUpdateError('BADRESPONSE', `malformed reply from ${where}: ${(err as Error).message}`, { cause: err });
  }
  const id = message.readUInt16BE(0);
  const opcode = (message.readUInt16BE(2) >> 11) & 0xf;
  if (!reply.response || reply.id !== id || reply.opcode !== opcode) {
    throw new DnsUpdateError('BADRESPONSE', `reply from ${where} does not answer our request (id ${reply.id}/${id}, opcode ${reply.opcode}/${opcode})`);
  }
  if (signed) checkSignature(target, wire, reply, signed);
  return { reply, wire };
}

// ---------------------------------------------------------------------------------------------
// Operations

function describe(value: string | SrvData): string {
  return typeof value === 'string' ? value : `${value.priority} ${value.weight} ${value.port} ${value.target}`;
}

function updateFailure(target: UpdateTarget, change: RecordChange, rcode: string): DnsUpdateError {
  const rrset = `${canonicalName(change.name)} ${change.type}`;
  const expected = change.expected?.map(describe).join(', ') ?? '';
  const reasons: Record<string, string> = {
    NXRRSET: `${rrset} does not hold exactly [${expected}]`,
    YXRRSET: `${rrset} already exists`,
    NOTZONE: `${rrset} is not inside zone ${canonicalName(target.zone)}`,
    NOTAUTH: `${endpoint(target)} is not authoritative for zone ${canonicalName(target.zone)}`,
    REFUSED: `${endpoint(target)} refused the update of ${rrset} (not permitted by its update policy)`,
  };
  return new DnsUpdateError(rcode, `${reasons[rcode] ?? `update of ${rrset} failed`} (${rcode})`);
}

/**
 * Atomically replaces the RRset `change.name`/`change.type` by `change.next` when it holds exactly
 * `change.expected` (RFC 2136 prerequisites), in one UPDATE. A failed prerequisite throws NXRRSET
 * (the RRset differs) or YXRRSET (`expected: []` and it exists). After NXRRSET on a retry, read the
 * RRset back: an earlier attempt may have been applied with its reply lost.
 */
export async function compareAndSwap(target: UpdateTarget, change: RecordChange): Promise<{ rcode: 'NOERROR' }> {
  const message = buildUpdateMessage(randomInt(0x10000), target.zone, change);
  const { reply } = await transact(target, message);
  if (reply.rcode !== 0) throw updateFailure(target, change, rcodeName(reply.rcode));
  return { rcode: 'NOERROR' };
}

/** Queries `name`/`type` and returns the matching records at that name (none for NXDOMAIN). */
async function queryRecords(target: UpdateTarget, name: string, type: number): Promise<{ wire: Buffer; records: ResourceRecord[] }> {
  const { reply, wire } = await transact(target, buildQueryMessage(randomInt(0x10000), name, type));
  const rcode = rcodeName(reply.rcode);
  if (rcode === 'NXDOMAIN') return { wire, records: [] };
  if (rcode !== 'NOERROR') throw new DnsUpdateError(rcode, `query for ${canonicalName(name)} failed at ${endpoint(target)} (${rcode})`);
  const owner = canonicalName(name);
  const records = reply.answers.filter((r) => r.type === type && r.class === RRClass.IN && canonicalName(r.name) === owner);
  return { wire, records };
}

/** The addresses `name` holds on the server, in RFC 5952 / dotted-quad form (see normalizeAddress). */
export async function queryAddresses(target: UpdateTarget, name: string, type: AddressType): Promise<string[]> {
  const { records } = await queryRecords(target, name, RRType[type]);
  return records.map((r) => (type === 'A' ? formatIPv4(r.rdata) : formatIPv6(r.rdata)));
}

/** The SRV records `name` holds on the server. */
export async function querySrv(target: UpdateTarget, name: string): Promise<SrvData[]> {
  const { wire, records } = await queryRecords(target, name, RRType.SRV);
  return records.map((r) => decodeSrv(wire, r));
}

/** The form queryAddresses returns, to compare addresses written differently ("::0:1" and "::1"). */
export function normalizeAddress(type: AddressType, address: string): string {
  return type === 'A' ? formatIPv4(encodeIPv4(address)) : formatIPv6(encodeIPv6(address));
}
