import { describe, expect, it } from 'vitest';
import type { PushedRecord } from '../dns/dns-update.service.js';
import type { ResponderAnswer } from '../dns/responder-answer.js';
import { dnsChannel, dnsUpdateChannel, publicationAgreement, restChannel, sentinelChannel } from './publication-channels.js';

const M = { host: '10.0.0.1', port: 6379 };
const a = (addresses: string[], over: Partial<ResponderAnswer> = {}): ResponderAnswer => ({
  rcode: 'NOERROR',
  addresses,
  cname: null,
  srv: [],
  ttl: 5,
  ...over,
});
const srv = (port: number, target = 'orders.redis.test.'): ResponderAnswer => a([], { srv: [{ priority: 0, weight: 0, port, target }] });

describe('restChannel', () => {
  it('agrees with the same address, says stale in failsafe, and disagrees with a 503 while a master is recorded', () => {
    expect(restChannel(M, { ok: true, host: '10.0.0.1', port: 6379, epoch: 2, stale: false })).toEqual({
      channel: 'rest',
      answer: '10.0.0.1:6379',
      stale: false,
      detail: 'epoch 2',
      agrees: true,
    });
    expect(restChannel(M, { ok: true, host: '10.0.0.1', port: 6379, epoch: 2, stale: true })).toMatchObject({ stale: true, agrees: true });
    expect(restChannel(M, { ok: false, status: 503, message: 'cannot vouch' })).toEqual({
      channel: 'rest',
      answer: null,
      detail: '503: cannot vouch',
      agrees: false,
    });
    expect(restChannel(null, { ok: false, status: 503, message: 'no master is recorded' }).agrees).toBe(true);
  });
});

describe('sentinelChannel', () => {
  it('reads the encoded reply the endpoint sends', () => {
    expect(sentinelChannel(M, '*2\r\n$8\r\n10.0.0.1\r\n$4\r\n6379\r\n')).toEqual({ channel: 'sentinel', answer: '10.0.0.1:6379', agrees: true });
    expect(sentinelChannel(M, '*2\r\n$8\r\n10.0.0.2\r\n$4\r\n6379\r\n').agrees).toBe(false);
    expect(sentinelChannel(M, null)).toMatchObject({ answer: null, agrees: false });
    expect(sentinelChannel(null, null).agrees).toBe(true);
  });
});

describe('dnsChannel', () => {
  const name = 'orders.redis.test.';
  it('compares the A record with an IP master, and the SRV port', () => {
    expect(dnsChannel(M, name, a(['10.0.0.1']), srv(6379))).toEqual({
      channel: 'dns',
      target: name,
      ttl: 5,
      answer: '10.0.0.1',
      detail: 'A compared with the recorded host 10.0.0.1 (an IP); SRV port 6379',
      agrees: true,
    });
    expect(dnsChannel(M, name, a(['10.0.0.2']), srv(6379)).agrees).toBe(false);
    expect(dnsChannel(M, name, a(['10.0.0.1']), srv(6380)).agrees).toBe(false);
    expect(dnsChannel({ host: '2001:db8:0::1', port: 6379 }, name, a(['2001:db8::1']), srv(6379)).agrees).toBe(true);
  });

  it('compares a CNAME by name with a master known by host name', () => {
    const c = dnsChannel({ host: 'Redis-1.example.com', port: 6379 }, name, a([], { cname: 'redis-1.example.com' }), srv(6379, 'redis-1.example.com.'));
    expect(c).toMatchObject({ answer: 'redis-1.example.com', agrees: true });
    expect(c.detail).toMatch(/^CNAME compared by name/);
  });

  it('disagrees on SERVFAIL while a master is recorded; no record agrees with no master', () => {
    expect(dnsChannel(M, name, a([], { rcode: 'SERVFAIL', ttl: null }), a([], { rcode: 'SERVFAIL', ttl: null }))).toEqual({
      channel: 'dns',
      target: name,
      answer: null,
      detail: 'SERVFAIL; no SRV record (SERVFAIL)',
      agrees: false,
    });
    expect(dnsChannel(null, name, a([], { ttl: null }), a([], { ttl: null })).agrees).toBe(true);
  });
});

describe('dnsUpdateChannel', () => {
  const at = new Date('2025-06-01T12:00:00Z');
  const name = 'db.example.';
  const rec = (over: Partial<PushedRecord>): PushedRecord => ({ name, type: 'A', value: '10.0.0.1', valueAt: at, epoch: 3, laterAttempt: null, ...over });
  const srvRec = (value: string, over: Partial<PushedRecord> = {}) => rec({ name: `_redis._tcp.${name}`, type: 'SRV', value, ...over });

  it('compares the last address and SRV port written with the recorded master', () => {
    expect(dnsUpdateChannel(M, name, [rec({}), srvRec('0 0 6379 db.example.')])).toEqual({
      channel: 'dns-update',
      target: name,
      answer: '10.0.0.1',
      detail: "A 10.0.0.1 and SRV port 6379 written at 2025-06-01T12:00:00.000Z (epoch 3); the server's records were not read",
      agrees: true,
    });
    // Same host, another port: only the SRV record tells.
    expect(dnsUpdateChannel({ host: '10.0.0.1', port: 6380 }, name, [rec({}), srvRec('0 0 6379 db.example.')]).agrees).toBe(false);
    const failedLater = dnsUpdateChannel({ host: '10.0.0.2', port: 6379 }, name, [
      rec({ laterAttempt: { status: 'failed', at: new Date(at.getTime() + 1000), note: 'REFUSED' } }),
      srvRec('0 0 6379 db.example.'),
    ]);
    expect(failedLater.agrees).toBe(false);
    expect(failedLater.detail).toMatch(/a later A attempt failed at 2025-06-01T12:00:01.000Z: REFUSED$/);
  });

  it('uses the SRV record of a host-name master', () => {
    expect(dnsUpdateChannel({ host: 'redis-1.example.com', port: 6379 }, name, [srvRec('0 0 6379 redis-1.example.com.')])).toMatchObject({
      answer: 'redis-1.example.com:6379',
      agrees: true,
    });
  });

  it('takes a name never written as unknown, and one whose only attempt failed as a disagreement', () => {
    expect(dnsUpdateChannel(M, name, [])).toMatchObject({ answer: null, agrees: true });
    expect(
      dnsUpdateChannel(M, name, [rec({ value: null, valueAt: null, epoch: null, laterAttempt: { status: 'failed', at, note: 'timeout' } })]),
    ).toMatchObject({
      answer: null,
      agrees: false,
    });
  });
});

describe('publicationAgreement', () => {
  it('lists every channel that disagrees', () => {
    expect(publicationAgreement(M, [{ channel: 'rest', answer: '10.0.0.1:6379', agrees: true }])).toEqual({ agree: true, disagreements: [] });
    expect(
      publicationAgreement(M, [
        { channel: 'rest', answer: '10.0.0.1:6379', agrees: true },
        { channel: 'dns', target: 'orders.redis.test.', answer: null, detail: 'SERVFAIL', agrees: false },
      ]),
    ).toEqual({ agree: false, disagreements: ['dns orders.redis.test. answers nothing (SERVFAIL); recorded 10.0.0.1:6379'] });
  });
});
