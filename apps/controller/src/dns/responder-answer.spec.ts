import { describe, expect, it } from 'vitest';
import { answerQuery, type ZoneData } from '../../../../libs/dns-server/src/index.js';
import { askResponder } from './responder-answer.js';

const zone = (clusters: ZoneData['clusters']): ZoneData => ({ zone: 'redis.test.', ttl: 7, serial: 1, nameserver: 'ns.redis.test.', clusters });
const ask = (z: ZoneData) => (query: Buffer) => answerQuery(query, z, 'tcp');

describe('askResponder', () => {
  it('decodes the address, SRV and TTL the responder gives for an IP master', () => {
    const z = zone(new Map([['orders', { master: { host: '10.0.0.1', port: 6380 }, replicas: [] }]]));
    expect(askResponder(ask(z), 'orders.redis.test.', 'A')).toEqual({ rcode: 'NOERROR', addresses: ['10.0.0.1'], cname: null, srv: [], ttl: 7 });
    expect(askResponder(ask(z), '_redis._tcp.orders.redis.test.', 'SRV').srv).toEqual([{ priority: 0, weight: 0, port: 6380, target: 'orders.redis.test.' }]);
    const v6 = zone(new Map([['orders', { master: { host: '2001:db8::0:1', port: 6379 }, replicas: [] }]]));
    expect(askResponder(ask(v6), 'orders.redis.test.', 'AAAA').addresses).toEqual(['2001:db8::1']);
  });

  it('gives the CNAME of a master known by host name, and the rcode of a name it cannot answer', () => {
    const z = zone(new Map([['orders', { master: { host: 'Redis-1.Example.com', port: 6379 }, replicas: [] }]]));
    expect(askResponder(ask(z), 'orders.redis.test.', 'A')).toMatchObject({ rcode: 'NOERROR', addresses: [], cname: 'redis-1.example.com' });
    expect(askResponder(ask(z), 'nope.redis.test.', 'A')).toMatchObject({ rcode: 'NXDOMAIN', addresses: [], ttl: null });
    const unavailable = zone(new Map([['orders', { master: null, replicas: [], unavailable: true }]]));
    expect(askResponder(ask(unavailable), 'orders.redis.test.', 'A').rcode).toBe('SERVFAIL');
    expect(askResponder(() => null, 'orders.redis.test.', 'A').rcode).toBe('no reply');
  });
});
