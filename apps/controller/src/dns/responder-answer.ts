import {
  buildQueryMessage,
  decodeSrv,
  formatIPv4,
  formatIPv6,
  parseMessage,
  rcodeName,
  readName,
  RRType,
  type SrvData,
} from '../../../../libs/dns-update/src/index.js';

const TYPE_CNAME = 5;

/** A reply of the responder, decoded: what a client would be told. */
export interface ResponderAnswer {
  /** NOERROR, NXDOMAIN, SERVFAIL, REFUSED, … */
  rcode: string;
  /** A or AAAA records in the answer section, in order. */
  addresses: string[];
  /** The first CNAME of the answer (a master known by hostname), without its trailing dot. */
  cname: string | null;
  srv: SrvData[];
  /** TTL of the first record of the answer section. */
  ttl: number | null;
}

/**
 * Asks a responder one question through its own answering code (`answer`: query bytes in, reply bytes
 * out, as `DnsServer.answer`) and decodes the reply.
 */
export function askResponder(answer: (query: Buffer) => Buffer | null, name: string, type: 'A' | 'AAAA' | 'SRV'): ResponderAnswer {
  const reply = answer(buildQueryMessage(0x5647, name, RRType[type]));
  if (reply === null) return { rcode: 'no reply', addresses: [], cname: null, srv: [], ttl: null };
  const message = parseMessage(reply);
  const out: ResponderAnswer = { rcode: rcodeName(message.rcode), addresses: [], cname: null, srv: [], ttl: message.answers[0]?.ttl ?? null };
  for (const r of message.answers) {
    if (r.type === RRType.A) out.addresses.push(formatIPv4(r.rdata));
    else if (r.type === RRType.AAAA) out.addresses.push(formatIPv6(r.rdata));
    else if (r.type === RRType.SRV) out.srv.push(decodeSrv(reply, r));
    else if (r.type === TYPE_CNAME && out.cname === null) out.cname = readName(reply, r.rdataStart).name.replace(/\.$/, '');
  }
  return out;
}
