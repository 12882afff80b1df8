import { describe, expect, it } from 'vitest';
import {
  canonicalName,
  DnsFormatError,
  decodeSrv,
  encodeIPv4,
  encodeIPv6,
  encodeMessage,
  encodeName,
  encodeSrv,
  formatIPv6,
  Opcode,
  parseMessage,
  readName,
  RRClass,
  RRType,
} from './wire.js';

describe('names', () => {
  it('encodes absolute names, with or without the trailing dot', () => {
    expect(encodeName('redis.test.')).toEqual(Buffer.from('0572656469730474657374' + '00', 'hex'));
    expect(encodeName('redis.test')).toEqual(encodeName('redis.test.'));
    expect(encodeName('.')).toEqual(Buffer.from([0]));
    expect(encodeName('Redis.TEST', true)).toEqual(encodeName('redis.test'));
    expect(encodeName('_redis._tcp.redis.test.')[0]).toBe(6);
  });

  it('rejects names it cannot represent faithfully', () => {
    for (const bad of ['a..b', `${'x'.repeat(64)}.test`, `${'abcdefgh.'.repeat(29)}`, 'a b.test', 'tést.test', 'a\\.b.test']) {
      expect(() => encodeName(bad), bad).toThrow(RangeError);
    }
  });

  it('reads compressed names and rejects pointer loops', () => {
    const buf = Buffer.concat([Buffer.from('0474657374 00'.replace(/ /g, ''), 'hex'), Buffer.from('0572656469 73 c000'.replace(/ /g, ''), 'hex')]);
    expect(readName(buf, 6)).toEqual({ name: 'redis.test.', end: 14 });
    expect(() => readName(Buffer.from('c000', 'hex'), 0)).toThrow(DnsFormatError);
    expect(() => readName(Buffer.from('03616263', 'hex'), 0)).toThrow(DnsFormatError);
  });

  it('compares names case-insensitively and absolutely', () => {
    expect(canonicalName('Primary.Redis.Test')).toBe('primary.redis.test.');
    expect(canonicalName('')).toBe('.');
  });
});

describe('addresses', () => {
  it('encodes IPv4 and IPv6 text forms', () => {
    expect(encodeIPv4('10.0.0.1')).toEqual(Buffer.from([10, 0, 0, 1]));
    expect(encodeIPv6('::1')).toEqual(Buffer.from('00000000000000000000000000000001', 'hex'));
    expect(encodeIPv6('2001:DB8::8:800:200C:417A')).toEqual(Buffer.from('20010db8000000000008080020 0c417a'.replace(/ /g, ''), 'hex'));
    expect(encodeIPv6('::ffff:192.0.2.1')).toEqual(Buffer.from('00000000000000000000ffffc0000201', 'hex'));
    expect(() => encodeIPv4('10.0.0.256')).toThrow(RangeError);
    expect(() => encodeIPv6('10.0.0.1')).toThrow(RangeError);
    expect(() => encodeIPv6('fe80::1%eth0')).toThrow(RangeError);
  });

  it('formats IPv6 as RFC 5952 says', () => {
    const cases: Record<string, string> = {
      '2001:0db8:0000:0000:0000:0000:0002:0001': '2001:db8::2:1',
      '2001:db8:0:0:1:0:0:1': '2001:db8::1:0:0:1', // first of two equal runs
      '2001:db8:0:1:1:1:1:1': '2001:db8:0:1:1:1:1:1', // a single zero group stays
      '0:0:0:0:0:0:0:0': '::',
      '1:0:0:0:0:0:0:0': '1::',
      '2001:db8:0:0:0:1:0:0': '2001:db8::1:0:0',
    };
    for (const [input, expected] of Object.entries(cases)) expect(formatIPv6(encodeIPv6(input)), input).toBe(expected);
  });
});

describe('messages', () => {
  it('round-trips through our parser and an independent decoder', () => {
    const wire = encodeMessage({
      id: 7,
      opcode: Opcode.UPDATE,
      questions: [{ name: 'redis.test.', type: RRType.SOA, class: RRClass.IN }],
      answers: [{ name: 'p.redis.test.', type: RRType.A, class: RRClass.NONE, ttl: 0, rdata: Buffer.alloc(0) }],
      authorities: [
        {
          name: '_r._tcp.redis.test.',
          type: RRType.SRV,
          class: RRClass.IN,
          ttl: 30,
          rdata: encodeSrv({ priority: 1, weight: 2, port: 6379, target: 'p.redis.test.' }),
        },
      ],
    });
    const parsed = parseMessage(wire);
    expect(parsed).toMatchObject({ id: 7, opcode: Opcode.UPDATE, response: false, rcode: 0 });
    expect(parsed.answers[0]).toMatchObject({ name: 'p.redis.test.', class: RRClass.NONE, rdata: Buffer.alloc(0) });
    expect(decodeSrv(wire, parsed.authorities[0]!)).toEqual({ priority: 1, weight: 2, port: 6379, target: 'p.redis.test.' });
    expect(parsed.authorities[0]!.rdata).toEqual(Buffer.from('0001 0002 18eb 01 70 05 7265646973 04 74657374 00'.replace(/ /g, ''), 'hex'));
  });

  it('rejects truncated or padded messages', () => {
    const wire = encodeMessage({ id: 1, opcode: Opcode.QUERY, questions: [{ name: 'a.test.', type: RRType.A, class: RRClass.IN }] });
    expect(() => parseMessage(wire.subarray(0, wire.length - 1))).toThrow(DnsFormatError);
    expect(() => parseMessage(Buffer.concat([wire, Buffer.from([0])]))).toThrow(DnsFormatError);
    expect(() => parseMessage(wire.subarray(0, 11))).toThrow(DnsFormatError);
  });
});
