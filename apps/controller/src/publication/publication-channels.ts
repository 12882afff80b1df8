import { isIP } from 'node:net';
import { normalizeAddress } from '../../../../libs/dns-update/src/index.js';
import { RespRequestParser } from '../../../../libs/resp/src/index.js';
import type { PushedRecord } from '../dns/dns-update.service.js';
import type { ResponderAnswer } from '../dns/responder-answer.js';

/**
 * What each publishing channel tells clients about a cluster's master, set against the recorded master,
 * as pure functions of the channels' own answers (the service asks each channel through the code that
 * answers its clients, so a disagreement here is one a client would see).
 */

export const PUBLICATION_CHANNELS = ['rest', 'sentinel', 'dns', 'dns-update'] as const;
export type PublicationChannel = (typeof PUBLICATION_CHANNELS)[number];

export interface ChannelAnswer {
  channel: PublicationChannel;
  target?: string;
  /** `host:port`, an IP or a host name (DNS), or null when the channel gives none. */
  answer: string | null;
  ttl?: number;
  stale?: boolean;
  detail?: string;
  agrees: boolean;
}

/** The recorded master. */
export interface Recorded {
  host: string;
  port: number;
}

const addr = (m: Recorded) => `${m.host}:${m.port}`;
const sameAddress = (a: string | null, b: string | null) => (a === null || b === null ? a === b : a.toLowerCase() === b.toLowerCase());

/** REST `GET /clusters/{name}/master`: its body, or the error status and message it answers. */
export function restChannel(
  recorded: Recorded | null,
  answer: { ok: true; host: string; port: number; epoch: number; stale: boolean } | { ok: false; status: number; message: string },
): ChannelAnswer {
  const expected = recorded ? addr(recorded) : null;
  if (!answer.ok) return { channel: 'rest', answer: null, detail: `${answer.status}: ${answer.message}`, agrees: expected === null };
  const given = `${answer.host}:${answer.port}`;
  return {
    channel: 'rest',
    answer: given,
    stale: answer.stale,
    detail: answer.stale ? `failsafe answer (stale: PostgreSQL is unreachable), epoch ${answer.epoch}` : `epoch ${answer.epoch}`,
    agrees: sameAddress(given, expected),
  };
}

/** `SENTINEL get-master-addr-by-name`: the encoded reply the endpoint sends (null: it answers a null array). */
export function sentinelChannel(recorded: Recorded | null, encoded: string | null): ChannelAnswer {
  const expected = recorded ? addr(recorded) : null;
  if (encoded === null) return { channel: 'sentinel', answer: null, detail: 'null (no master it can vouch for)', agrees: expected === null };
  // The reply is an array of two bulk strings, the shape of a request: the request parser reads it.
  const [parts] = new RespRequestParser().push(Buffer.from(encoded));
  const given = parts && parts.length === 2 ? `${parts[0]}:${parts[1]}` : null;
  return {
    channel: 'sentinel',
    answer: given,
    ...(given === null ? { detail: `unexpected reply ${JSON.stringify(encoded)}` } : {}),
    agrees: sameAddress(given, expected),
  };
}

/**
 * The built-in responder's answer for the master's name: the address record (A, or AAAA for an IPv6
 * master) compared with the recorded host when it is an IP, the CNAME compared by name when the host is
 * a name (the responder publishes a hostname master as a CNAME); and the port of its SRV record.
 */
export function dnsChannel(recorded: Recorded | null, name: string, address: ResponderAnswer, srv: ResponderAnswer): ChannelAnswer {
  const base = { channel: 'dns' as const, target: name, ...(address.ttl !== null ? { ttl: address.ttl } : {}) };
  const port = srv.srv[0]?.port;
  const srvText = port !== undefined ? `SRV port ${port}` : `no SRV record (${srv.rcode})`;
  if (address.rcode !== 'NOERROR') return { ...base, answer: null, detail: `${address.rcode}; ${srvText}`, agrees: recorded === null };
  if (!recorded) {
    const given = address.addresses[0] ?? address.cname;
    return {
      ...base,
      answer: given,
      detail: given === null ? 'no record: no master is published' : 'a record, though no master is recorded',
      agrees: given === null,
    };
  }
  const family = isIP(recorded.host);
  if (family !== 0) {
    const type = family === 4 ? 'A' : 'AAAA';
    const want = normalizeAddress(type, recorded.host);
    const given = address.addresses[0] ?? null;
    const agrees = address.addresses.length === 1 && address.addresses[0] === want && port === recorded.port;
    return { ...base, answer: given, detail: `${type} compared with the recorded host ${recorded.host} (an IP); ${srvText}`, agrees };
  }
  const want = recorded.host.toLowerCase().replace(/\.$/, '');
  const given = address.cname;
  const agrees = given !== null && given.toLowerCase() === want && port === recorded.port;
  return {
    ...base,
    answer: given,
    detail: `CNAME compared by name with the recorded host ${recorded.host} (a host name, published as a CNAME; not resolved here); ${srvText}`,
    agrees,
  };
}

/**
 * RFC 2136 updates of one name: the last records Vigil wrote there (the address at the name, the port
 * in the SRV record `_redis._tcp.<name>`; a master known by host name has the SRV record only), compared
 * with the recorded master. The external server itself is not asked; a name Vigil never wrote (no
 * failover since it was configured) is unknown, not a disagreement, unless an attempt to write it failed.
 */
export function dnsUpdateChannel(recorded: Recorded | null, name: string, pushed: readonly PushedRecord[]): ChannelAnswer {
  const base = { channel: 'dns-update' as const, target: name };
  const address = pushed.find((p) => p.name === name && p.type !== 'SRV');
  const srv = pushed.find((p) => p.name === `_redis._tcp.${name}` && p.type === 'SRV');
  const later = [address, srv]
    .filter((p): p is PushedRecord => p?.laterAttempt != null)
    .map((p) => `; a later ${p.type} attempt ${p.laterAttempt!.status} at ${p.laterAttempt!.at.toISOString()}: ${p.laterAttempt!.note ?? 'no detail'}`)
    .join('');
  const notRead = "the server's records were not read";
  if (!address?.value && !srv?.value) {
    return {
      ...base,
      answer: null,
      detail: `nothing written yet: Vigil writes these records when the master changes; ${notRead}${later}`,
      agrees: later === '',
    };
  }
  const [, , srvPort, srvTarget] = srv?.value?.split(' ') ?? [];
  const port = srvPort === undefined ? undefined : Number(srvPort);
  const written = [address?.value ? `${address.type} ${address.value}` : null, port !== undefined ? `SRV port ${port}` : 'no SRV record']
    .filter((x) => x !== null)
    .join(' and ');
  const newest = [address, srv].filter((p) => p?.valueAt).sort((a, b) => b!.valueAt!.getTime() - a!.valueAt!.getTime())[0]!;
  const detail = `${written} written at ${newest.valueAt!.toISOString()} (epoch ${newest.epoch ?? '?'}); ${notRead}${later}`;
  if (address?.value) {
    const family = recorded ? isIP(recorded.host) : 0;
    const sameHost = recorded !== null && family !== 0 && normalizeAddress(family === 4 ? 'A' : 'AAAA', recorded.host) === address.value;
    return { ...base, answer: address.value, detail, agrees: sameHost && (port === undefined || port === recorded.port) };
  }
  const answer = `${(srvTarget ?? '').replace(/\.$/, '')}:${port}`;
  return { ...base, answer, detail, agrees: recorded !== null && sameAddress(answer, addr(recorded)) };
}

/** Whether every channel agrees with the record, and one line per channel that does not. */
export function publicationAgreement(recorded: Recorded | null, channels: readonly ChannelAnswer[]): { agree: boolean; disagreements: string[] } {
  const disagreements = channels
    .filter((c) => !c.agrees)
    .map(
      (c) =>
        `${c.channel}${c.target ? ` ${c.target}` : ''} answers ${c.answer ?? 'nothing'}${c.detail ? ` (${c.detail})` : ''}; recorded ${recorded ? addr(recorded) : 'no master'}`,
    );
  return { agree: disagreements.length === 0, disagreements };
}
