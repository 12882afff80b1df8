import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { buildUpdateMessage, compareAndSwap, DnsUpdateError, exchange, normalizeAddress, queryAddresses } from './update-client.js';
import { decodeSrv, parseMessage, RRClass, RRType } from './wire.js';

describe('buildUpdateMessage', () => {
  const change = { name: 'primary.redis.test.', type: 'A' as const, ttl: 30, next: '10.0.0.2' };

  const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
  const primary = '07 7072696d617279 05 7265646973 04 74657374 00';

  it('encodes zone, value-dependent prerequisite, RRset deletion and the new RR (RFC 2136 §2.4, §2.5)', () => {
    const wire = buildUpdateMessage(0x1234, 'redis.test.', { ...change, expected: ['10.0.0.1'] });
    expect(wire).toEqual(
      hex(`1234 2800 0001 0001 0002 0000
        05 7265646973 04 74657374 00 0006 0001
        ${primary} 0001 0001 00000000 0004 0a000001
        ${primary} 0001 00ff 00000000 0000
        ${primary} 0001 0001 0000001e 0004 0a000002`),
    );
  });

  it('says what nsupdate says for the same change', () => {
    // nsupdate: prereq yxrrset primary.redis.test. IN A 10.0.0.1 / update delete primary.redis.test. A /
    // update add primary.redis.test. 60 A 10.0.0.2 (its TSIG RR removed; it compresses names, we do not).
    const nsupdate = parseMessage(
      hex(`10032800000100010002000005726564697304746573740000060001077072696d617279c00c000100010000000000040a000001
        c01c000100ff000000000000c01c000100010000003c00040a000002`),
    );
    const ours = parseMessage(buildUpdateMessage(0x1003, 'redis.test.', { ...change, ttl: 60, expected: ['10.0.0.1'] }));
    const semantic = (m: typeof ours) => ({
      header: [m.id, m.flags],
      questions: m.questions,
      sections: [m.answers, m.authorities, m.additionals].map((rrs) =>
        rrs.map(({ name, type, class: klass, ttl, rdata }) => ({ name, type, klass, ttl, rdata })),
      ),
    });
    expect(semantic(ours)).toEqual(semantic(nsupdate));
  });

  it('sends each expected value once', () => {
    const prereqs = parseMessage(buildUpdateMessage(1, 'redis.test.', { ...change, expected: ['10.0.0.1', '10.0.0.3', '10.0.0.1'] })).answers;
    expect(prereqs.map((r) => [...r.rdata].join('.'))).toEqual(['10.0.0.1', '10.0.0.3']);
    expect(prereqs.every((r) => r.class === RRClass.IN && r.ttl === 0 && r.type === RRType.A)).toBe(true);
  });

  it('requires the RRset to be absent for expected: []', () => {
    const prereqs = parseMessage(buildUpdateMessage(1, 'redis.test.', { ...change, expected: [] })).answers;
    expect(prereqs).toHaveLength(1);
    expect(prereqs[0]).toMatchObject({ type: RRType.A, class: RRClass.NONE, ttl: 0, rdata: Buffer.alloc(0) });
  });

  it('has no prerequisite for expected: null', () => {
    expect(parseMessage(buildUpdateMessage(1, 'redis.test.', { ...change, expected: null })).answers).toEqual([]);
  });

  it('encodes AAAA and SRV values', () => {
    const aaaa = parseMessage(buildUpdateMessage(1, 'redis.test.', { ...change, type: 'AAAA', expected: ['2001:db8::1'], next: '2001:db8::2' }));
    expect(aaaa.answers[0]!.rdata).toHaveLength(16);
    const srv = { priority: 0, weight: 5, port: 6379, target: 'primary.redis.test.' };
    const wire = buildUpdateMessage(1, 'redis.test.', { name: '_redis._tcp.redis.test.', type: 'SRV', ttl: 30, expected: [srv], next: srv });
    const [prereq] = parseMessage(wire).answers;
    expect(decodeSrv(wire, prereq!)).toEqual(srv);
    expect(prereq!.rdata).toEqual(hex(`0000 0005 18eb ${primary}`));
  });

  it('rejects invalid input before sending anything', () => {
    expect(() => buildUpdateMessage(1, 'redis.test.', { ...change, expected: null, next: '10.0.0' })).toThrow(RangeError);
    expect(() => buildUpdateMessage(1, 'redis.test.', { ...change, expected: ['::1'] })).toThrow(RangeError);
    expect(() => buildUpdateMessage(1, 'redis.test.', { ...change, expected: null, ttl: -1 })).toThrow(RangeError);
  });
});

describe('normalizeAddress', () => {
  it('gives the form queries return', () => {
    expect(normalizeAddress('AAAA', '2001:DB8:0::0:1')).toBe('2001:db8::1');
    expect(normalizeAddress('A', '10.0.0.1')).toBe('10.0.0.1');
  });
});

describe('transport', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
  });

  /** A TCP server on a free port answering every request through `reply`. */
  async function fakeServer(reply: (request: Buffer) => Buffer | undefined): Promise<number> {
    server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.on('data', (chunk) => {
        const out = reply(chunk.subarray(2));
        if (out) socket.end(Buffer.concat([Buffer.from([out.length >> 8, out.length & 0xff]), out]));
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return (server.address() as { port: number }).port;
  }

  it('reassembles a reply that arrives in pieces', async () => {
    server = createServer((socket) => {
      socket.once('data', () => {
        socket.write(Buffer.from([0, 3, 1]));
        setTimeout(() => socket.end(Buffer.from([2, 3])), 20);
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    expect(await exchange({ server: '127.0.0.1', port, zone: 'redis.test.' }, Buffer.alloc(12))).toEqual(Buffer.from([1, 2, 3]));
  });

  it('times out on a server that never answers', async () => {
    const port = await fakeServer(() => undefined);
    const started = Date.now();
    const err = await compareAndSwap(
      { server: '127.0.0.1', port, zone: 'redis.test.', timeoutMs: 200 },
      { name: 'p.redis.test.', type: 'A', ttl: 30, expected: null, next: '10.0.0.1' },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DnsUpdateError);
    expect(err).toMatchObject({ rcode: 'TIMEOUT', message: `no reply from 127.0.0.1:${port} within 200 ms` });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('rejects a reply to another request', async () => {
    const port = await fakeServer((request) => {
      const reply = Buffer.from(request);
      reply.writeUInt16BE(reply.readUInt16BE(0) ^ 1, 0);
      reply[2] |= 0x80;
      return reply;
    });
    await expect(queryAddresses({ server: '127.0.0.1', port, zone: 'redis.test.' }, 'p.redis.test.', 'A')).rejects.toMatchObject({ rcode: 'BADRESPONSE' });
  });

  it('rejects an unsigned reply to a signed request, whatever it claims', async () => {
    const port = await fakeServer((request) => {
      const reply = Buffer.from(request.subarray(0, request.indexOf(Buffer.from('vigil-key')) - 1));
      reply.writeUInt16BE(0, 10);
      reply[2] |= 0x80;
      return reply;
    });
    const key = { name: 'vigil-key', algorithm: 'hmac-sha256' as const, secret: Buffer.alloc(32, 1) };
    const err = await compareAndSwap(
      { server: '127.0.0.1', port, zone: 'redis.test.', key },
      { name: 'p.redis.test.', type: 'A', ttl: 30, expected: null, next: '10.0.0.1' },
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ rcode: 'BADRESPONSE', tsigError: 'UNSIGNED' });
    expect((err as Error).message).toContain('the reply claims NOERROR');
  });
});
