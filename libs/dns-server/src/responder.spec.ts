import * as dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { answerQuery, compiledZone, serverFailureReply } from './responder.js';
import { CompiledZone, nameToWire, parseIPv6, validateZoneData, ZoneDataError, type DnsCluster, type ZoneData } from './zone.js';

const TYPES: Record<string, number> = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  IXFR: 251,
  AXFR: 252,
  MAILB: 253,
  ANY: 255,
};

interface QueryOptions {
  id?: number;
  rd?: boolean;
  cd?: boolean;
  opcode?: number;
  qclass?: number;
  /** EDNS UDP payload size; adds an OPT record. */
  edns?: number;
  ednsVersion?: number;
}

/** Wire-format name, labels as given (case kept). */
function wireName(name: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter(Boolean);
  return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])), Buffer.from([0])]);
}

function optRr(payload: number, version = 0): Buffer {
  const rr = Buffer.alloc(11);
  rr.writeUInt16BE(41, 1);
  rr.writeUInt16BE(payload, 3);
  rr[6] = version;
  return rr;
}

/** A query built by hand, so that the tests do not share an encoder with the code under test. */
function query(name: string, type: string | number, o: QueryOptions = {}): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(o.id ?? 0x1234, 0);
  header[2] = ((o.opcode ?? 0) << 3) | (o.rd === false ? 0 : 1);
  header[3] = o.cd ? 0x10 : 0;
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(o.edns === undefined ? 0 : 1, 10);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(typeof type === 'number' ? type : TYPES[type], 0);
  tail.writeUInt16BE(o.qclass ?? 1, 2);
  return Buffer.concat([header, wireName(name), tail, o.edns === undefined ? Buffer.alloc(0) : optRr(o.edns, o.ednsVersion)]);
}

/** What dns-packet's decoder returns; its type declarations leave out `rcode` and `opcode`. */
type Reply = dnsPacket.DecodedPacket & { rcode: string; opcode: string };

function decode(reply: Buffer | null): Reply {
  expect(reply).not.toBeNull();
  return dnsPacket.decode(reply!) as Reply;
}

const data = (answers: dnsPacket.Answer[] | undefined): unknown[] => (answers ?? []).map((a) => (a as { data?: unknown }).data);

function cluster(master: string | null, replicas: string[] = [], port = 6379): DnsCluster {
  return { master: master === null ? null : { host: master, port }, replicas: replicas.map((host) => ({ host, port })) };
}

function makeZone(extra: [string, DnsCluster][] = [], overrides: Partial<ZoneData> = {}): ZoneData {
  return {
    zone: 'redis.example.',
    ttl: 30,
    serial: 2_024_010_101,
    nameserver: 'ns.redis.example.',
    nameserverAddress: '192.0.2.53',
    clusters: new Map([
      ['orders', cluster('10.0.0.1', ['10.0.0.2', '10.0.0.3', '2001:db8::3'])],
      ['carts', cluster('2001:db8::10', [], 6390)],
      ['sessions', cluster('redis-1.internal.example', ['10.0.1.2'])],
      ['idle', cluster(null)],
      ...extra,
    ]),
    ...overrides,
  };
}

const zone = makeZone();
const ask = (name: string, type: string | number, o: QueryOptions = {}, transport: 'udp' | 'tcp' = 'udp', z = zone) =>
  decode(answerQuery(query(name, type, o), z, transport));

function expectSoaAuthority(p: Reply, ttl = 30): void {
  expect(p.authorities).toHaveLength(1);
  const soa = p.authorities![0] as dnsPacket.SoaAnswer;
  expect(soa).toMatchObject({ type: 'SOA', name: 'redis.example', ttl, class: 'IN' });
  expect(soa.data.minimum).toBe(ttl);
}

describe('answerQuery: positive answers', () => {
  it('answers A for an IPv4 master, authoritative, with ID and RD echoed and RA clear', () => {
    const p = ask('orders.redis.example.', 'A', { id: 0xbeef });
    expect(p).toMatchObject({ id: 0xbeef, type: 'response', rcode: 'NOERROR', opcode: 'QUERY', flag_aa: true, flag_rd: true, flag_ra: false, flag_tc: false });
    expect(p.answers).toEqual([{ name: 'orders.redis.example', type: 'A', class: 'IN', ttl: 30, flush: false, data: '10.0.0.1' }]);
    expect(p.authorities).toEqual([]);
    expect(p.additionals).toEqual([]);
  });

  it('leaves RD clear when the query has it clear, and echoes CD', () => {
    expect(ask('orders.redis.example.', 'A', { rd: false })).toMatchObject({ flag_rd: false, flag_cd: false });
    expect(ask('orders.redis.example.', 'A', { cd: true })).toMatchObject({ flag_rd: true, flag_cd: true });
    expect(ask('nope.redis.example.', 'A', { rd: false, cd: true })).toMatchObject({ flag_rd: false, flag_cd: true });
  });

  it('echoes the spelling of the question name (0x20), cached or not, and matches case-insensitively', () => {
    const z = makeZone();
    for (const name of ['OrDeRs.ReDiS.eXaMpLe', 'orders.redis.example', 'ORDERS.REDIS.EXAMPLE', 'oRDERS.redis.EXAMPLE']) {
      const q = query(name, 'A');
      const reply = answerQuery(q, z, 'udp')!;
      expect(reply.subarray(12, 12 + name.length + 2)).toEqual(q.subarray(12, 12 + name.length + 2));
      const p = decode(reply);
      expect(p.questions).toEqual([{ name, type: 'A', class: 'IN' }]);
      expect(p.answers?.[0]).toMatchObject({ name, data: '10.0.0.1' });
    }
    for (const name of ['NoPe.ReDiS.eXaMpLe', '_TCP.Orders.Redis.Example', 'Example.COM']) {
      expect(ask(name, 'A').questions).toEqual([{ name, type: 'A', class: 'IN' }]);
    }
  });

  it('answers AAAA for an IPv6 master; the other family is NODATA', () => {
    expect(data(ask('carts.redis.example.', 'AAAA').answers)).toEqual(['2001:db8::10']);
    for (const [name, type] of [
      ['carts.redis.example.', 'A'],
      ['orders.redis.example.', 'AAAA'],
    ]) {
      const p = ask(name, type);
      expect(p).toMatchObject({ rcode: 'NOERROR', flag_aa: true, answers: [] });
      expectSoaAuthority(p);
    }
  });

  it('answers a CNAME to the hostname of a master known by name, for any type', () => {
    for (const type of ['A', 'AAAA', 'CNAME', 'TXT', 'ANY']) {
      const p = ask('sessions.redis.example.', type);
      expect(p.rcode).toBe('NOERROR');
      expect(p.answers).toEqual([{ name: 'sessions.redis.example', type: 'CNAME', class: 'IN', ttl: 30, flush: false, data: 'redis-1.internal.example' }]);
    }
  });

  it('does not cache a CNAME answer for every query type', () => {
    const z = makeZone();
    for (let type = 1; type < 2000; type++) {
      if (type === 41 || (type >= 251 && type <= 254)) continue;
      expect(ask('sessions.redis.example.', type, {}, 'udp', z).answers?.[0]?.type).toBe('CNAME');
    }
    const node = compiledZone(z).find(nameToWire('sessions.redis.example')!.toString('latin1'))!;
    expect(node.answers!.size).toBeLessThanOrEqual(4);
  });

  it('follows a CNAME that points inside the zone', () => {
    const z = makeZone([
      ['alias', cluster('orders.redis.example')],
      ['dangling', cluster('gone.redis.example')],
      ['loop1', cluster('loop2.redis.example')],
      ['loop2', cluster('loop1.redis.example')],
    ]);
    const p = ask('alias.redis.example.', 'A', {}, 'udp', z);
    expect(p.answers?.map((a) => [a.name, a.type, (a as { data: unknown }).data])).toEqual([
      ['alias.redis.example', 'CNAME', 'orders.redis.example'],
      ['orders.redis.example', 'A', '10.0.0.1'],
    ]);
    const nodata = ask('alias.redis.example.', 'MX', {}, 'udp', z);
    expect(nodata.rcode).toBe('NOERROR');
    expect(nodata.answers).toHaveLength(1);
    expectSoaAuthority(nodata);
    const dangling = ask('dangling.redis.example.', 'A', {}, 'udp', z);
    expect(dangling.rcode).toBe('NXDOMAIN');
    expect(dangling.answers).toHaveLength(1);
    expectSoaAuthority(dangling);
    expect(ask('loop1.redis.example.', 'A', {}, 'udp', z).answers?.map((a) => a.type)).toEqual(['CNAME', 'CNAME']);
  });

  it('answers SRV with the cluster name and its address for an IP master', () => {
    const p = ask('_redis._tcp.orders.redis.example.', 'SRV');
    expect(p.answers).toEqual([
      {
        name: '_redis._tcp.orders.redis.example',
        type: 'SRV',
        class: 'IN',
        ttl: 30,
        flush: false,
        data: { priority: 0, weight: 0, port: 6379, target: 'orders.redis.example' },
      },
    ]);
    expect(p.additionals).toEqual([{ name: 'orders.redis.example', type: 'A', class: 'IN', ttl: 30, flush: false, data: '10.0.0.1' }]);
    const v6 = ask('_redis._tcp.carts.redis.example.', 'SRV');
    expect(data(v6.answers)).toEqual([{ priority: 0, weight: 0, port: 6390, target: 'carts.redis.example' }]);
    expect(v6.additionals?.map((a) => [a.type, (a as { data: unknown }).data])).toEqual([['AAAA', '2001:db8::10']]);
  });

  it('answers SRV with the hostname for a master known by name', () => {
    const p = ask('_redis._tcp.sessions.redis.example.', 'SRV');
    expect(data(p.answers)).toEqual([{ priority: 0, weight: 0, port: 6379, target: 'redis-1.internal.example' }]);
    expect(p.additionals).toEqual([]);
  });

  it('writes the SRV target without compression (RFC 2782)', () => {
    const reply = answerQuery(query('_redis._tcp.orders.redis.example.', 'SRV'), zone, 'udp')!;
    expect(reply.includes(wireName('orders.redis.example'))).toBe(true);
  });

  it('answers the replicas of each family', () => {
    const a = ask('replicas.orders.redis.example.', 'A');
    expect(data(a.answers).sort()).toEqual(['10.0.0.2', '10.0.0.3']);
    expect(a.answers?.every((r) => (r as { ttl?: number }).ttl === 30 && r.name === 'replicas.orders.redis.example')).toBe(true);
    expect(data(ask('replicas.orders.redis.example.', 'AAAA').answers)).toEqual(['2001:db8::3']);
    expect(ask('replicas.orders.redis.example.', 'ANY').answers).toHaveLength(3);
    const none = ask('replicas.carts.redis.example.', 'A');
    expect(none).toMatchObject({ rcode: 'NOERROR', answers: [] });
    expectSoaAuthority(none);
  });

  it('answers SOA and NS at the apex, with the nameserver address as additional data', () => {
    const soa = ask('redis.example.', 'SOA');
    expect(soa.answers).toEqual([
      {
        name: 'redis.example',
        type: 'SOA',
        class: 'IN',
        ttl: 30,
        flush: false,
        data: { mname: 'ns.redis.example', rname: 'hostmaster.redis.example', serial: 2_024_010_101, refresh: 3600, retry: 600, expire: 86_400, minimum: 30 },
      },
    ]);
    const ns = ask('redis.example.', 'NS');
    expect(ns.answers).toEqual([{ name: 'redis.example', type: 'NS', class: 'IN', ttl: 30, flush: false, data: 'ns.redis.example' }]);
    expect(ns.additionals).toEqual([{ name: 'ns.redis.example', type: 'A', class: 'IN', ttl: 30, flush: false, data: '192.0.2.53' }]);
    expect(ask('redis.example.', 'ANY').answers?.map((a) => a.type)).toEqual(['SOA', 'NS']);
    expect(data(ask('ns.redis.example.', 'A').answers)).toEqual(['192.0.2.53']);
    const nodata = ask('redis.example.', 'A');
    expect(nodata).toMatchObject({ rcode: 'NOERROR', answers: [] });
    expectSoaAuthority(nodata);
  });

  it('publishes no nameserver address when the nameserver is outside the zone, and an AAAA for an IPv6 one', () => {
    const outside = makeZone([], { nameserver: 'ns1.provider.example.', nameserverAddress: '192.0.2.1' });
    expect(data(ask('redis.example.', 'NS', {}, 'udp', outside).answers)).toEqual(['ns1.provider.example']);
    expect(ask('redis.example.', 'NS', {}, 'udp', outside).additionals).toEqual([]);
    expect(ask('ns1.provider.example.', 'A', {}, 'udp', outside).rcode).toBe('REFUSED');
    const v6 = makeZone([], { nameserver: 'a.dns.redis.example.', nameserverAddress: '2001:db8::53' });
    expect(data(ask('a.dns.redis.example.', 'AAAA', {}, 'udp', v6).answers)).toEqual(['2001:db8::53']);
    expect(ask('dns.redis.example.', 'A', {}, 'udp', v6)).toMatchObject({ rcode: 'NOERROR', answers: [] });
  });

  it('publishes a cluster whose name is also on the way to the nameserver', () => {
    const z = makeZone([['dns', cluster('10.0.0.44')]], { nameserver: 'a.dns.redis.example.', nameserverAddress: '192.0.2.54' });
    expect(data(ask('dns.redis.example.', 'A', {}, 'udp', z).answers)).toEqual(['10.0.0.44']);
    expect(data(ask('a.dns.redis.example.', 'A', {}, 'udp', z).answers)).toEqual(['192.0.2.54']);
    expect(data(ask('_redis._tcp.dns.redis.example.', 'SRV', {}, 'udp', z).answers)).toEqual([
      { priority: 0, weight: 0, port: 6379, target: 'dns.redis.example' },
    ]);
  });

  it('answers class ANY queries with the IN records', () => {
    const p = ask('orders.redis.example.', 'A', { qclass: 255 });
    expect(p.questions?.[0].class).toBe('ANY');
    expect(data(p.answers)).toEqual(['10.0.0.1']);
  });

  it('answers a query that carries records in the answer and authority sections', () => {
    const q = query('orders.redis.example.', 'A');
    q.writeUInt16BE(1, 6);
    q.writeUInt16BE(1, 8);
    const rr = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 1, 2, 3, 4]);
    expect(data(decode(answerQuery(Buffer.concat([q, rr, rr]), zone, 'udp')).answers)).toEqual(['10.0.0.1']);
  });
});

describe('answerQuery: negative answers', () => {
  it('answers NXDOMAIN with the SOA (TTL = minimum = zone TTL) for names that do not exist', () => {
    for (const name of ['nope.redis.example.', 'x.orders.redis.example.', 'a.b.c.redis.example.', 'x.replicas.orders.redis.example.', '_tcp.redis.example.']) {
      const p = ask(name, 'A');
      expect(p).toMatchObject({ rcode: 'NXDOMAIN', flag_aa: true, answers: [], additionals: [] });
      expectSoaAuthority(p);
    }
    const custom = makeZone([], { ttl: 5 });
    expectSoaAuthority(ask('nope.redis.example.', 'A', {}, 'udp', custom), 5);
    expectSoaAuthority(ask('orders.redis.example.', 'AAAA', {}, 'udp', custom), 5);
  });

  it('answers NODATA for empty non-terminals and for clusters without a master', () => {
    for (const [name, type] of [
      ['_tcp.orders.redis.example.', 'A'],
      ['_tcp.orders.redis.example.', 'SRV'],
      ['idle.redis.example.', 'A'],
      ['idle.redis.example.', 'AAAA'],
      ['_redis._tcp.idle.redis.example.', 'SRV'],
      ['replicas.idle.redis.example.', 'A'],
      ['orders.redis.example.', 'MX'],
      ['orders.redis.example.', 65_000],
      ['_redis._tcp.orders.redis.example.', 'A'],
    ] as const) {
      const p = ask(name, type);
      expect(p, `${name} ${type}`).toMatchObject({ rcode: 'NOERROR', flag_aa: true, answers: [] });
      expectSoaAuthority(p);
    }
  });

  it('refuses names outside the zone, without AA', () => {
    for (const name of ['example.com.', 'example.', '.', 'xredis.example.', 'redis.example.com.', 'orders.redis.example.org.']) {
      const p = ask(name, 'A');
      expect(p, name).toMatchObject({ rcode: 'REFUSED', flag_aa: false, answers: [], authorities: [] });
      expect(p.questions).toHaveLength(1);
    }
  });
});

describe('answerQuery: unavailable clusters', () => {
  it('answers SERVFAIL for every name of an unavailable cluster and leaves the others answering, cached answers included', () => {
    const before = makeZone();
    // Cache a positive answer for orders in the zone it is about to leave.
    expect(ask('orders.redis.example.', 'A', {}, 'udp', before).answers).toHaveLength(1);
    const after = makeZone([['orders', { ...cluster('10.0.0.1', ['10.0.0.2']), unavailable: true }]]);
    for (const [name, type] of [
      ['orders.redis.example.', 'A'],
      ['orders.redis.example.', 'AAAA'],
      ['_redis._tcp.orders.redis.example.', 'SRV'],
      ['_tcp.orders.redis.example.', 'SRV'],
      ['replicas.orders.redis.example.', 'A'],
    ] as const) {
      const p = ask(name, type, { edns: 1232 }, 'udp', after);
      expect(p, `${name} ${type}`).toMatchObject({ rcode: 'SERVFAIL', answers: [], authorities: [] });
      expect(p.questions).toHaveLength(1);
    }
    expect(ask('carts.redis.example.', 'AAAA', {}, 'udp', after).answers).toHaveLength(1);
    expect(ask('nothing.redis.example.', 'A', {}, 'udp', after).rcode).toBe('NXDOMAIN');
    // Available again: answered as before.
    expect(ask('orders.redis.example.', 'A', {}, 'udp', makeZone()).answers).toHaveLength(1);
  });
});

describe('answerQuery: errors and unusual queries', () => {
  it('answers NOTIMP, echoing the opcode, to other opcodes (UPDATE, NOTIFY, IQUERY)', () => {
    for (const opcode of [1, 4, 5, 15]) {
      const reply = answerQuery(query('redis.example.', 'SOA', { opcode }), zone, 'udp')!;
      expect(reply[3] & 0x0f).toBe(4);
      expect((reply[2] >> 3) & 0x0f).toBe(opcode);
      expect(reply[2] & 0x84).toBe(0x80);
    }
    const update = ask('redis.example.', 'SOA', { opcode: 5 });
    expect(update).toMatchObject({ opcode: 'UPDATE', rcode: 'NOTIMP', answers: [] });
    expect(update.questions).toHaveLength(1);
  });

  it('answers FORMERR when QDCOUNT is not 1', () => {
    for (const count of [0, 2]) {
      const q = query('orders.redis.example.', 'A');
      q.writeUInt16BE(count, 4);
      const p = decode(answerQuery(q, zone, 'udp'));
      expect(p).toMatchObject({ rcode: 'FORMERR', questions: [], answers: [], flag_aa: false });
    }
    expect(decode(answerQuery(Buffer.from([0xab, 0xcd, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0]), zone, 'udp'))).toMatchObject({ id: 0xabcd, rcode: 'FORMERR' });
  });

  it('answers FORMERR to a question that does not parse', () => {
    const q = query('orders.redis.example.', 'A');
    expect(decode(answerQuery(q.subarray(0, 20), zone, 'udp')).rcode).toBe('FORMERR');
    expect(decode(answerQuery(q.subarray(0, q.length - 1), zone, 'udp')).rcode).toBe('FORMERR');
    const pointer = Buffer.concat([q.subarray(0, 12), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])]);
    expect(decode(answerQuery(pointer, zone, 'udp')).rcode).toBe('FORMERR');
    const badLabel = Buffer.concat([q.subarray(0, 12), Buffer.from([0x40, 0, 0, 1, 0, 1])]);
    expect(decode(answerQuery(badLabel, zone, 'udp')).rcode).toBe('FORMERR');
    const tooLong = query(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}.`, 'A');
    expect(decode(answerQuery(tooLong, zone, 'udp')).rcode).toBe('FORMERR');
    const longest = query(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}.`, 'A');
    expect(decode(answerQuery(longest, zone, 'udp')).rcode).toBe('REFUSED');
  });

  it('answers FORMERR to a truncated record after the question, two OPT records, or an OPT not owned by the root', () => {
    const q = query('orders.redis.example.', 'A', { edns: 1232 });
    expect(decode(answerQuery(q.subarray(0, q.length - 3), zone, 'udp')).rcode).toBe('FORMERR');
    const twice = Buffer.concat([q, optRr(1232)]);
    twice.writeUInt16BE(2, 10);
    expect(decode(answerQuery(twice, zone, 'udp')).rcode).toBe('FORMERR');
    const named = Buffer.concat([q.subarray(0, q.length - 11), Buffer.from([0xc0, 0x0c]), optRr(1232).subarray(1)]);
    expect(decode(answerQuery(named, zone, 'udp')).rcode).toBe('FORMERR');
  });

  it('drops responses and messages shorter than a header', () => {
    const q = query('orders.redis.example.', 'A');
    q[2] |= 0x80;
    expect(answerQuery(q, zone, 'udp')).toBeNull();
    expect(answerQuery(Buffer.alloc(0), zone, 'udp')).toBeNull();
    expect(answerQuery(Buffer.alloc(11), zone, 'tcp')).toBeNull();
  });

  it('refuses classes other than IN and ANY, and zone transfers', () => {
    for (const qclass of [3, 4, 254]) expect(ask('orders.redis.example.', 'A', { qclass })).toMatchObject({ rcode: 'REFUSED', flag_aa: false });
    for (const type of ['AXFR', 'IXFR']) expect(ask('redis.example.', type)).toMatchObject({ rcode: 'REFUSED', flag_aa: false });
  });

  it('answers NOTIMP to MAILA/MAILB and FORMERR to QTYPE OPT', () => {
    expect(ask('orders.redis.example.', 'MAILB').rcode).toBe('NOTIMP');
    expect(ask('orders.redis.example.', 254).rcode).toBe('NOTIMP');
    expect(ask('orders.redis.example.', 'OPT').rcode).toBe('FORMERR');
  });
});

describe('answerQuery: EDNS', () => {
  const opt = (p: Reply) => p.additionals?.find((a) => a.type === 'OPT') as dnsPacket.OptAnswer | undefined;

  it('replies with an OPT record (payload 1232, version 0) only when the query has one', () => {
    for (const [name, type] of [
      ['orders.redis.example.', 'A'],
      ['orders.redis.example.', 'AAAA'],
      ['nope.redis.example.', 'A'],
      ['_redis._tcp.orders.redis.example.', 'SRV'],
      ['example.com.', 'A'],
    ]) {
      const withEdns = ask(name, type, { edns: 4096 });
      expect(opt(withEdns), name).toMatchObject({ name: '.', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0 });
      expect(withEdns.additionals?.at(-1)?.type).toBe('OPT');
      expect(opt(ask(name, type))).toBeUndefined();
    }
    const srv = ask('_redis._tcp.orders.redis.example.', 'SRV', { edns: 1232 });
    expect(srv.additionals?.map((a) => a.type)).toEqual(['A', 'OPT']);
  });

  it('keeps answers with and without EDNS apart in the cache', () => {
    const z = makeZone();
    for (let i = 0; i < 3; i++) {
      expect(opt(ask('orders.redis.example.', 'A', {}, 'udp', z))).toBeUndefined();
      expect(opt(ask('orders.redis.example.', 'A', { edns: 1400 }, 'udp', z))).toBeDefined();
    }
  });

  it('answers BADVERS to an EDNS version above 0', () => {
    const p = ask('orders.redis.example.', 'A', { edns: 1232, ednsVersion: 1 });
    expect(p).toMatchObject({ rcode: 'NOERROR', answers: [], flag_aa: false });
    expect(opt(p)).toMatchObject({ extendedRcode: 1, ednsVersion: 0, udpPayloadSize: 1232 });
    expect(((opt(p)!.extendedRcode << 4) | (p.flags! & 0x0f)) === 16).toBe(true);
    expect(p.questions).toHaveLength(1);
  });

  it('reads the OPT record after other additional records, with options', () => {
    const q = query('orders.redis.example.', 'A');
    const cookieOpt = Buffer.concat([optRr(1232).subarray(0, 9), Buffer.from([0, 12, 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8])]);
    const other = Buffer.from([0xc0, 0x0c, 0, 16, 0, 1, 0, 0, 0, 0, 0, 2, 1, 0x61]);
    const full = Buffer.concat([q, other, cookieOpt]);
    full.writeUInt16BE(2, 10);
    expect(opt(decode(answerQuery(full, zone, 'udp')))).toBeDefined();
  });
});

describe('answerQuery: truncation', () => {
  const many = Array.from({ length: 60 }, (_, i) => `10.1.0.${i + 1}`);
  const big = makeZone([['big', cluster('10.1.0.1', many)]]);

  it('truncates a UDP answer that does not fit 512 bytes: TC, question only, no partial RRsets', () => {
    const reply = answerQuery(query('replicas.big.redis.example.', 'A'), big, 'udp')!;
    expect(reply.length).toBeLessThanOrEqual(512);
    const p = decode(reply);
    expect(p).toMatchObject({ flag_tc: true, flag_aa: true, rcode: 'NOERROR', answers: [], authorities: [], additionals: [] });
    expect(p.questions).toEqual([{ name: 'replicas.big.redis.example', type: 'A', class: 'IN' }]);
  });

  it('uses the EDNS payload size (at least 512, at most 4096) as the UDP limit', () => {
    const full = answerQuery(query('replicas.big.redis.example.', 'A', { edns: 4096 }), big, 'udp')!;
    expect(decode(full)).toMatchObject({ flag_tc: false });
    expect(decode(full).answers).toHaveLength(60);
    const size = full.length;
    expect(size).toBeGreaterThan(512);
    expect(decode(answerQuery(query('replicas.big.redis.example.', 'A', { edns: size }), big, 'udp')).flag_tc).toBe(false);
    const cut = decode(answerQuery(query('replicas.big.redis.example.', 'A', { edns: size - 1 }), big, 'udp'));
    expect(cut).toMatchObject({ flag_tc: true, answers: [] });
    expect(cut.additionals?.map((a) => a.type)).toEqual(['OPT']);
    expect(decode(answerQuery(query('replicas.big.redis.example.', 'A', { edns: 100 }), big, 'udp')).flag_tc).toBe(true);

    const huge = makeZone([
      [
        'huge',
        cluster(
          null,
          Array.from({ length: 300 }, (_, i) => `10.2.${i >> 8}.${i & 255}`),
        ),
      ],
    ]);
    const max = answerQuery(query('replicas.huge.redis.example.', 'A', { edns: 65_000 }), huge, 'udp')!;
    expect(max.length).toBeLessThanOrEqual(4096);
    expect(decode(max).flag_tc).toBe(true);
  });

  it('sends the whole answer over TCP', () => {
    const p = ask('replicas.big.redis.example.', 'A', {}, 'tcp', big);
    expect(p.flag_tc).toBe(false);
    expect(data(p.answers).sort()).toEqual([...many].sort());
  });

  it('compresses owner names to pointers into the question', () => {
    const reply = answerQuery(query('replicas.big.redis.example.', 'A'), big, 'tcp')!;
    // header 12 + question (28 + 4) + 60 × (pointer 2 + fixed 10 + address 4)
    expect(reply.length).toBe(12 + 32 + 60 * 16);
  });
});

describe('answerQuery: zone data', () => {
  it('answers from a new ZoneData object at once', () => {
    const first = makeZone();
    expect(data(ask('orders.redis.example.', 'A', {}, 'udp', first).answers)).toEqual(['10.0.0.1']);
    const second = makeZone([['orders', cluster('10.9.9.9')]], { serial: 2_024_010_102 });
    expect(data(ask('orders.redis.example.', 'A', {}, 'udp', second).answers)).toEqual(['10.9.9.9']);
    expect((ask('redis.example.', 'SOA', {}, 'udp', second).answers?.[0] as dnsPacket.SoaAnswer).data.serial).toBe(2_024_010_102);
    expect(data(ask('orders.redis.example.', 'A', {}, 'udp', first).answers)).toEqual(['10.0.0.1']);
  });

  it('carries unchanged clusters, with their cached answers, over to the next ZoneData', () => {
    const key = (name: string) => nameToWire(name)!.toString('latin1');
    const first = makeZone();
    const c1 = new CompiledZone(first);
    const orders = c1.find(key('orders.redis.example.'));
    const carts = c1.find(key('carts.redis.example.'));
    expect(orders?.rrsets.size).toBe(1);
    const second = makeZone([['carts', cluster('2001:db8::99')]], { serial: 5 });
    const c2 = new CompiledZone(second, c1);
    expect(c2.find(key('orders.redis.example.'))).toBe(orders);
    expect(c2.find(key('replicas.orders.redis.example.'))).toBe(c1.find(key('replicas.orders.redis.example.')));
    expect(c2.find(key('carts.redis.example.'))).not.toBe(carts);
    // Not carried over when a setting the records depend on changes.
    expect(new CompiledZone(makeZone([], { ttl: 31 }), c1).find(key('orders.redis.example.'))).not.toBe(orders);
    // Carried over two generations even when the middle one never compiled it.
    const c3 = new CompiledZone(makeZone([], { serial: 6 }), new CompiledZone(makeZone([], { serial: 5 }), c1));
    expect(c3.find(key('orders.redis.example.'))).toBe(orders);
  });

  it('answers each new ZoneData from its own data, whatever was carried over', () => {
    const shared = cluster('10.0.0.1', ['10.0.0.2']);
    const z = (serial: number, extra: [string, DnsCluster][] = []) =>
      makeZone([['alias', cluster('orders.redis.example')], ['shared', shared], ...extra], { serial });
    const v1 = z(1);
    for (const name of ['orders', 'alias', 'shared', 'carts']) ask(`${name}.redis.example.`, 'A', {}, 'udp', v1);
    ask('replicas.shared.redis.example.', 'A', {}, 'udp', v1);

    const v2 = z(2, [['orders', cluster('10.0.0.50')]]);
    expect(data(ask('orders.redis.example.', 'A', {}, 'udp', v2).answers)).toEqual(['10.0.0.50']);
    expect(data(ask('alias.redis.example.', 'A', {}, 'udp', v2).answers)).toEqual(['orders.redis.example', '10.0.0.50']);
    expect(data(ask('carts.redis.example.', 'AAAA', {}, 'udp', v2).answers)).toEqual(['2001:db8::10']);

    // The same cluster object changed in place, under a new ZoneData, is seen too.
    shared.replicas.push({ host: '10.0.0.3', port: 6379 });
    const v3 = z(3);
    expect(data(ask('replicas.shared.redis.example.', 'A', {}, 'udp', v3).answers)).toEqual(['10.0.0.2', '10.0.0.3']);

    // A cluster that is gone is NXDOMAIN.
    const v4: ZoneData = { ...z(4), clusters: new Map([...z(4).clusters].filter(([label]) => label !== 'shared')) };
    expect(ask('shared.redis.example.', 'A', {}, 'udp', v4).rcode).toBe('NXDOMAIN');
    expect(ask('replicas.shared.redis.example.', 'A', {}, 'udp', v4).rcode).toBe('NXDOMAIN');
  });

  it('takes the serial modulo 2^32 and accepts a zone name without trailing dot or in upper case', () => {
    const z = makeZone([], { serial: 2 ** 32 + 7, zone: 'Redis.Example' });
    expect((ask('redis.example.', 'SOA', {}, 'udp', z).answers?.[0] as dnsPacket.SoaAnswer).data.serial).toBe(7);
    expect(data(ask('orders.redis.example.', 'A', {}, 'udp', z).answers)).toEqual(['10.0.0.1']);
  });

  it('throws ZoneDataError for a zone that cannot be served; serverFailureReply gives SERVFAIL', () => {
    for (const bad of [{ zone: 'bad..zone.' }, { ttl: -1 }, { ttl: 1.5 }, { nameserver: '' }, { nameserverAddress: 'not-an-ip' }, { serial: NaN }]) {
      const z = makeZone([], bad as Partial<ZoneData>);
      expect(() => answerQuery(query('orders.redis.example.', 'A'), z, 'udp')).toThrow(ZoneDataError);
      expect(validateZoneData(z)).toHaveLength(1);
    }
    const p = decode(serverFailureReply(query('Orders.redis.example.', 'A', { id: 7 })));
    expect(p).toMatchObject({ id: 7, rcode: 'SERVFAIL', questions: [{ name: 'Orders.redis.example', type: 'A', class: 'IN' }] });
    expect(serverFailureReply(Buffer.alloc(3))).toBeNull();
  });

  it('skips clusters and hosts it cannot publish, and says why', () => {
    const z = makeZone([
      ['Bad Label', cluster('10.0.0.9')],
      ['a.b', cluster('10.0.0.9')],
      ['badhost', cluster('not a host!', ['10.0.0.8', 'replica.example.com', '10.0.0.8'])],
      ['badport', { master: { host: '10.0.0.7', port: 70_000 }, replicas: [] }],
      ['ns', cluster('10.0.0.6')],
    ]);
    const warnings = validateZoneData(z);
    expect(warnings).toHaveLength(6);
    expect(warnings.join('\n')).toMatch(/"Bad Label".*skipped/);
    expect(validateZoneData(makeZone())).toEqual([]);
    expect(ask('badhost.redis.example.', 'A', {}, 'udp', z)).toMatchObject({ rcode: 'NOERROR', answers: [] });
    expect(data(ask('replicas.badhost.redis.example.', 'A', {}, 'udp', z).answers)).toEqual(['10.0.0.8']);
    expect(ask('badport.redis.example.', 'A', {}, 'udp', z).answers).toEqual([]);
    expect(data(ask('ns.redis.example.', 'A', {}, 'udp', z).answers)).toEqual(['192.0.2.53']);
    expect(ask('_redis._tcp.ns.redis.example.', 'SRV', {}, 'udp', z).answers).toEqual([]);
  });
});

describe('parseIPv6', () => {
  it('parses the textual forms of IPv6 addresses', () => {
    const hex = (s: string) => parseIPv6(s)?.toString('hex');
    expect(hex('::')).toBe('0'.repeat(32));
    expect(hex('::1')).toBe(`${'0'.repeat(31)}1`);
    expect(hex('2001:db8::')).toBe(`20010db8${'0'.repeat(24)}`);
    expect(hex('2001:db8::7:8')).toBe('20010db8000000000000000000070008');
    expect(hex('1:2:3:4:5:6:7:8')).toBe('00010002000300040005000600070008');
    expect(hex('::ffff:192.0.2.1')).toBe('00000000000000000000ffffc0000201');
    expect(hex('FE80::1%eth0')).toBe(`fe80${'0'.repeat(27)}1`);
    expect(parseIPv6('10.0.0.1')).toBeNull();
    expect(parseIPv6('1::2::3')).toBeNull();
    expect(parseIPv6('host.example')).toBeNull();
  });
});
