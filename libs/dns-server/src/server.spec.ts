import { networkInterfaces } from 'node:os';
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { promisify } from 'node:util';
import * as dnsPacket from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { DnsServer, type DnsServerOptions } from './server.js';
import type { DnsCluster, ZoneData } from './zone.js';

const run = promisify(execFile);

function makeZone(masters: Record<string, string>, serial = 1, replicas: Record<string, string[]> = {}): ZoneData {
  const clusters = new Map<string, DnsCluster>();
  for (const [name, host] of Object.entries(masters))
    clusters.set(name, { master: { host, port: 6379 }, replicas: (replicas[name] ?? []).map((h) => ({ host: h, port: 6379 })) });
  return { zone: 'redis.example.', ttl: 5, serial, nameserver: 'ns.redis.example.', nameserverAddress: '127.0.0.1', clusters };
}

const servers: DnsServer[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function startServer(getZone: () => ZoneData | null, options: Partial<DnsServerOptions> = {}): Promise<number> {
  const server = new DnsServer(getZone, { host: '127.0.0.1', port: 0, ...options });
  servers.push(server);
  return (await server.start()).port;
}

async function dig(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=2', ...args]);
  return stdout.trim();
}

function frame(message: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(message.length);
  return Buffer.concat([length, message]);
}

const aQuery = (name: string, id: number) => dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: 'A' }] });

/** A TCP client that collects length-framed replies. */
async function tcpClient(port: number) {
  const socket = connect({ host: '127.0.0.1', port });
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let buffered = Buffer.alloc(0);
  const replies: Reply[] = [];
  let waiting: (() => void) | null = null;
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {});
  socket.on('data', (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
      replies.push(dnsPacket.decode(buffered.subarray(2, 2 + buffered.readUInt16BE(0))) as Reply);
      buffered = buffered.subarray(2 + buffered.readUInt16BE(0));
    }
    waiting?.();
  });
  return {
    socket,
    closed,
    replies,
    async waitForReplies(n: number, timeoutMs = 2000): Promise<Reply[]> {
      const deadline = Date.now() + timeoutMs;
      while (replies.length < n) {
        if (Date.now() > deadline) throw new Error(`got ${replies.length} of ${n} replies`);
        await new Promise<void>((resolve) => {
          waiting = resolve;
          setTimeout(resolve, 50);
        });
      }
      return replies;
    },
  };
}

/** What dns-packet's decoder returns; its type declarations leave out `rcode`. */
type Reply = dnsPacket.DecodedPacket & { rcode: string };

const answerOf = (p: Reply) => (p.answers ?? []).map((a) => (a as { data: unknown }).data);

describe('DnsServer', () => {
  it('answers over UDP and TCP on the same port', async () => {
    const port = await startServer(() => makeZone({ orders: '10.0.0.1', carts: '2001:db8::1' }));
    expect(await dig(port, 'orders.redis.example', 'A', '+short')).toBe('10.0.0.1');
    expect(await dig(port, 'orders.redis.example', 'A', '+short', '+tcp')).toBe('10.0.0.1');
    expect(await dig(port, 'carts.redis.example', 'AAAA', '+short', '+tcp')).toBe('2001:db8::1');
    expect(await dig(port, '_redis._tcp.orders.redis.example', 'SRV', '+short')).toBe('0 0 6379 orders.redis.example.');
    const full = await dig(port, 'nope.redis.example', 'A', '+norec');
    expect(full).toMatch(/status: NXDOMAIN/);
    expect(full).toMatch(/flags: qr aa;/);
    expect(full).toMatch(/redis\.example\.\s+5\s+IN\s+SOA\s+ns\.redis\.example\. hostmaster\.redis\.example\. 1 3600 600 86400 5/);
    expect(await dig(port, 'example.com', 'A')).toMatch(/status: REFUSED/);
  });

  it('keeps answering after UDP garbage', async () => {
    const port = await startServer(() => makeZone({ orders: '10.0.0.1' }));
    const udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', () => resolve()));
    const garbage = [
      Buffer.from([1, 2, 3]),
      Buffer.alloc(0),
      Buffer.from('0000000000000000000000000000000000', 'hex'),
      Buffer.alloc(600, 0xc0),
      Buffer.from('deadbeef81000001c00c', 'hex'),
    ];
    for (const g of garbage) await new Promise<void>((resolve) => udp.send(g, port, '127.0.0.1', () => resolve()));
    // A header-sized message with an unparseable question gets FORMERR back.
    // (The all-zero message above is one too: its FORMERR, ID 0, may arrive first.)
    const reply = new Promise<Buffer>((resolve) => udp.on('message', (msg) => msg.readUInt16BE(0) === 0xabcd && resolve(msg)));
    await new Promise<void>((resolve) => udp.send(Buffer.from('abcd00000001000000000000c00c', 'hex'), port, '127.0.0.1', () => resolve()));
    expect(dnsPacket.decode(await reply)).toMatchObject({ id: 0xabcd, rcode: 'FORMERR' });
    udp.close();
    expect(await dig(port, 'orders.redis.example', 'A', '+short')).toBe('10.0.0.1');
  });

  it('falls back to TCP for a truncated answer (dig retries on TC)', async () => {
    const replicas = Array.from({ length: 60 }, (_, i) => `10.1.0.${i + 1}`);
    const port = await startServer(() => makeZone({ big: '10.1.0.1' }, 1, { big: replicas }));
    const truncated = await dig(port, 'replicas.big.redis.example', 'A', '+noedns', '+ignore');
    expect(truncated).toMatch(/flags: qr aa tc rd;/);
    const lines = (await dig(port, 'replicas.big.redis.example', 'A', '+noedns', '+short')).split('\n');
    expect(lines.sort()).toEqual([...replicas].sort());
  });

  it('answers pipelined TCP queries, split at any byte, in order', async () => {
    const port = await startServer(() => makeZone({ a: '10.0.0.1', b: '10.0.0.2', c: '10.0.0.3' }));
    const client = await tcpClient(port);
    const wire = Buffer.concat(['a', 'b', 'c', 'nope'].map((n, i) => frame(aQuery(`${n}.redis.example`, i + 1))));
    // First all in one write, then a byte at a time.
    client.socket.write(wire);
    await client.waitForReplies(4);
    for (const byte of wire) {
      client.socket.write(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
    const replies = await client.waitForReplies(8);
    expect(replies.map((r) => r.id)).toEqual([1, 2, 3, 4, 1, 2, 3, 4]);
    expect(replies.slice(0, 4).map(answerOf)).toEqual([['10.0.0.1'], ['10.0.0.2'], ['10.0.0.3'], []]);
    expect(replies[3].rcode).toBe('NXDOMAIN');
  });

  it('closes a TCP connection that sends a garbage frame, and only that one', async () => {
    const port = await startServer(() => makeZone({ orders: '10.0.0.1' }));
    const good = await tcpClient(port);
    for (const garbage of [Buffer.from([0, 5, 1, 2, 3, 4, 5]), Buffer.from([0, 0]), frame(Buffer.from('abcd8000000100000000000003616263', 'hex'))]) {
      const bad = await tcpClient(port);
      bad.socket.write(garbage);
      await bad.closed;
      expect(bad.replies).toEqual([]);
    }
    // Unparseable question: FORMERR, then the connection is closed.
    const formerr = await tcpClient(port);
    formerr.socket.write(Buffer.concat([frame(Buffer.from('abcd00000001000000000000c00c', 'hex')), frame(aQuery('orders.redis.example', 9))]));
    await formerr.closed;
    expect(formerr.replies.map((r) => r.rcode)).toEqual(['FORMERR']);

    good.socket.write(frame(aQuery('orders.redis.example', 77)));
    const [reply] = await good.waitForReplies(1);
    expect(reply.id).toBe(77);
    expect(answerOf(reply)).toEqual(['10.0.0.1']);
  });

  it('closes idle TCP connections', async () => {
    const port = await startServer(() => makeZone({ orders: '10.0.0.1' }), { tcpIdleTimeoutMs: 300 });
    const client = await tcpClient(port);
    client.socket.write(frame(aQuery('orders.redis.example', 1)));
    await client.waitForReplies(1);
    const started = Date.now();
    await client.closed;
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('answers from the new zone as soon as getZone returns it', async () => {
    let current = makeZone({ orders: '10.0.0.1' }, 1);
    const port = await startServer(() => current);
    expect(await dig(port, 'orders.redis.example', 'A', '+short')).toBe('10.0.0.1');
    current = makeZone({ orders: '10.0.0.2' }, 2);
    expect(await dig(port, 'orders.redis.example', 'A', '+short')).toBe('10.0.0.2');
    expect(await dig(port, 'orders.redis.example', 'A', '+short', '+tcp')).toBe('10.0.0.2');
    expect(await dig(port, 'redis.example', 'SOA', '+short')).toMatch(/ 2 3600 600 86400 5$/);
  });

  it('answers SERVFAIL for a zone it cannot serve, and reports it once', async () => {
    const errors: Error[] = [];
    const broken = { ...makeZone({ orders: '10.0.0.1' }), zone: 'bad..zone' };
    const port = await startServer(() => broken, { onError: (err) => errors.push(err) });
    expect(await dig(port, 'orders.redis.example', 'A')).toMatch(/status: SERVFAIL/);
    expect(await dig(port, 'orders.redis.example', 'A', '+tcp')).toMatch(/status: SERVFAIL/);
    expect(errors.map((e) => e.message)).toEqual(['invalid zone name "bad..zone"']);
  });

  it('answers SERVFAIL while the zone cannot be vouched for (getZone gives null), and the data again after', async () => {
    let fresh = false;
    const port = await startServer(() => (fresh ? makeZone({ orders: '10.0.0.1' }) : null));
    expect(await dig(port, 'orders.redis.example', 'A')).toMatch(/status: SERVFAIL/);
    fresh = true;
    expect(await dig(port, 'orders.redis.example', 'A', '+short')).toBe('10.0.0.1');
  });

  it('picks the same free port for UDP and TCP, and frees it on stop', async () => {
    const server = new DnsServer(() => makeZone({ orders: '10.0.0.1' }), { host: '127.0.0.1', port: 0 });
    const { port } = await server.start();
    await expect(server.start()).rejects.toThrow(/already started/);
    const client = await tcpClient(port);
    await server.stop();
    await client.closed;
    const again = new DnsServer(() => makeZone({ orders: '10.0.0.2' }), { host: '127.0.0.1', port });
    servers.push(again);
    expect(await again.start()).toEqual({ port });
    expect(await dig(port, 'orders.redis.example', 'A', '+short')).toBe('10.0.0.2');
    const clash = new DnsServer(() => makeZone({}), { host: '127.0.0.1', port });
    await expect(clash.start()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await expect(new DnsServer(() => makeZone({}), { host: 'localhost', port: 0 }).start()).rejects.toThrow(/IP address/);
  });

  // Skipped, visibly, on a machine without an IPv6 loopback.
  it.skipIf(!Object.values(networkInterfaces()).some((list) => list?.some((a) => a.address === '::1')))(
    'serves IPv6 when bound to an IPv6 address',
    async () => {
      const server = new DnsServer(() => makeZone({ orders: '10.0.0.1' }), { host: '::1', port: 0 });
      const { port } = await server.start();
      servers.push(server);
      const { stdout } = await run('dig', ['@::1', '-p', String(port), '+tries=1', '+time=2', 'orders.redis.example', 'A', '+short']);
      expect(stdout.trim()).toBe('10.0.0.1');
    },
  );
});
