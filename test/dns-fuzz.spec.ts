import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import * as dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsResponderService } from '../apps/controller/src/dns/dns-responder.service.js';
import { DnsServer, type ZoneData } from '../libs/dns-server/src/index.js';
import { type RedisServer, startRedis, waitFor } from '../libs/testing/src/index.js';
import { freshDatabase, startTestController, type TestController } from './support/controller.js';

const ZONE = 'redis.fuzz.';
const FORMERR = 1;

function header(id: number, qd: number, an = 0, ns = 0, ar = 0, flags = 0x0100): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(flags, 2);
  h.writeUInt16BE(qd, 4);
  h.writeUInt16BE(an, 6);
  h.writeUInt16BE(ns, 8);
  h.writeUInt16BE(ar, 10);
  return h;
}
const A_IN = Buffer.from([0, 1, 0, 1]);
const query = (id: number, name = `fz.${ZONE}`): Buffer =>
  dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: 'A' }] });
const label = (len: number, fill = 0x61): number[] => [len, ...Array<number>(Math.min(len, 63)).fill(fill)];

/** Messages malformed by construction: every one must get FORMERR (BIND's answer), never a crash. */
const malformed: fc.Arbitrary<{ what: string; bytes: (id: number) => Buffer }> = fc.oneof(
  fc.constantFrom(
    { what: 'pointer to itself', bytes: (id: number) => Buffer.concat([header(id, 1), Buffer.from([0xc0, 0x0c]), A_IN]) },
    { what: 'a.(loop)', bytes: (id: number) => Buffer.concat([header(id, 1), Buffer.from([1, 0x61, 0xc0, 0x0c]), A_IN]) },
    { what: 'pointer into the header', bytes: (id: number) => Buffer.concat([header(id, 1), Buffer.from([0xc0, 0x02]), A_IN]) },
    { what: 'forward pointer', bytes: (id: number) => Buffer.concat([header(id, 1), Buffer.from([0xc0, 0x40]), A_IN]) },
    { what: 'half a pointer', bytes: (id: number) => Buffer.concat([header(id, 1), Buffer.from([0xc0])]) },
    { what: 'no question', bytes: (id: number) => header(id, 0) },
    { what: 'two questions', bytes: (id: number) => Buffer.concat([header(id, 2), Buffer.from([2, 0x66, 0x7a, 0]), A_IN, Buffer.from([0]), A_IN]) },
    { what: 'counts past the end', bytes: (id: number) => Buffer.concat([header(id, 1, 65_535, 65_535, 65_535), Buffer.from([0]), A_IN]) },
    { what: 'OPT record cut short', bytes: (id: number) => Buffer.concat([header(id, 1, 0, 0, 1), Buffer.from([0]), A_IN, Buffer.from([0, 0, 41])]) },
  ),
  fc.integer({ min: 64, max: 255 }).map((len) => ({
    what: `label length byte ${len}`,
    bytes: (id: number) => Buffer.concat([header(id, 1), Buffer.from(label(len)), Buffer.from([0]), A_IN]),
  })),
  fc.integer({ min: 5, max: 40 }).map((n) => ({
    what: `a name of ${n} labels of 63 bytes`,
    bytes: (id: number) => Buffer.concat([header(id, 1), Buffer.from(Array.from({ length: n }, () => label(63)).flat()), Buffer.from([0]), A_IN]),
  })),
  fc.integer({ min: 1, max: 40 }).map((keep) => ({
    what: `question cut after ${keep} bytes`,
    bytes: (id: number) => {
      const q = query(id);
      return q.subarray(0, Math.min(q.length - 1, 12 + keep));
    },
  })),
);

/** Anything: random bytes (mostly with QR clear and one question, to get past the first checks), or a valid query with bytes changed. */
const anything: fc.Arbitrary<(id: number) => Buffer> = fc.oneof(
  fc.tuple(fc.uint8Array({ minLength: 0, maxLength: 600 }), fc.boolean()).map(([b, shaped]) => (id: number) => {
    const bytes = Buffer.from(b);
    if (shaped && bytes.length >= 12) {
      bytes.writeUInt16BE(id, 0);
      bytes[2]! &= 0x7f;
      bytes.writeUInt16BE(1, 4);
    }
    return bytes;
  }),
  fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 8 }).map((changes) => (id: number) => {
    const bytes = query(id);
    for (const [at, v] of changes) bytes[12 + (at % (bytes.length - 12))] = v;
    return bytes;
  }),
);

/** What a reply must be, whatever was asked: a response echoing the ID that dns-packet can decode. */
function checkReply(reply: Buffer, sent: Buffer, what: string): void {
  expect(reply.length, what).toBeGreaterThanOrEqual(12);
  expect(reply.readUInt16BE(0), what).toBe(sent.readUInt16BE(0));
  expect(reply[2]! & 0x80, `${what}: QR`).toBe(0x80);
  expect(() => dnsPacket.decode(reply), `${what}: the reply decodes`).not.toThrow();
}

/** A TCP conversation: length-prefixed replies as they come, and whether the server closed. */
async function tcp(
  port: number,
  allowHalfOpen = false,
): Promise<{ socket: Socket; replies: Buffer[]; closed: () => boolean; until: (n: number) => Promise<void> }> {
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let buf = Buffer.alloc(0);
  let closed = false;
  const replies: Buffer[] = [];
  let wake = (): void => undefined;
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      replies.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      buf = buf.subarray(2 + buf.readUInt16BE(0));
    }
    wake();
  });
  socket.on('error', () => undefined);
  socket.once('close', () => {
    closed = true;
    wake();
  });
  const until = (n: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, 5000);
      wake = () => {
        if (replies.length >= n || closed) {
          clearTimeout(timer);
          resolve();
        }
      };
      wake();
    });
  return { socket, replies, closed: () => closed, until };
}
const framed = (m: Buffer): Buffer => Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m]);

describe('DNS responder fuzzing (UDP and TCP)', () => {
  let controller: TestController;
  let redis: RedisServer;
  let port: number;
  const udp = createSocket('udp4');
  const udpReplies = new Map<number, Buffer>();
  let udpWake = (): void => undefined;

  beforeAll(async () => {
    controller = await startTestController(await freshDatabase(), { DNS_PORT: '0', DNS_ZONE: ZONE });
    port = controller.app.get(DnsResponderService).port!;
    redis = await startRedis();
    expect(
      (
        await controller.api('POST', '/api/v1/clusters', {
          body: { name: 'fz', quorum: 1, downAfterMs: 1000, nodes: [{ host: redis.host, port: redis.port }] },
        })
      ).status,
    ).toBe(201);
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    udp.on('message', (m) => {
      if (m.length >= 2) udpReplies.set(m.readUInt16BE(0), m);
      udpWake();
    });
    await waitFor(async () => dnsPacket.decode((await ask(query(1))) ?? Buffer.alloc(0)).answers?.length === 1, 10_000, 'fz to be answered');
  });

  afterAll(async () => {
    udp.close();
    await controller?.close();
    await redis?.stop();
  });

  /** Sends `message` over UDP; the reply with its ID, or undefined if none came before the reply to a valid query sent after it. */
  async function ask(message: Buffer): Promise<Buffer | undefined> {
    const id = message.length >= 2 ? message.readUInt16BE(0) : -1;
    const refId = (id + 1) & 0xffff;
    udpReplies.clear();
    udp.send(message, port, '127.0.0.1');
    udp.send(query(refId), port, '127.0.0.1');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5000);
      udpWake = () => {
        if (udpReplies.has(refId)) {
          clearTimeout(timer);
          resolve();
        }
      };
      udpWake();
    });
    const ref = udpReplies.get(refId);
    expect(ref && dnsPacket.decode(ref).answers?.[0], 'a valid query is still answered').toMatchObject({ type: 'A', data: '127.0.0.1' });
    return id === refId ? undefined : udpReplies.get(id);
  }

  it('answers every generated message over UDP with a well-formed reply or nothing; malformed ones get FORMERR', async () => {
    // Meanwhile a TCP client sends part of a message and stalls: the connection is closed after the 10 s timeout.
    const stalled = await tcp(port);
    const stalledAt = Date.now();
    stalled.socket.write(Buffer.concat([Buffer.from([0, 100]), query(7).subarray(0, 20)]));
    let cases = 0;
    let formerr = 0;
    let silent = 0;
    await fc.assert(
      fc.asyncProperty(malformed, fc.integer({ min: 2, max: 60_000 }), async (m, id) => {
        cases++;
        const sent = m.bytes(id);
        const reply = await ask(sent);
        expect(reply, `${m.what}: a reply`).toBeDefined();
        checkReply(reply!, sent, m.what);
        expect(reply![3]! & 0x0f, `${m.what}: FORMERR`).toBe(FORMERR);
        formerr++;
      }),
      { numRuns: 700 },
    );
    await fc.assert(
      fc.asyncProperty(anything, fc.integer({ min: 2, max: 60_000 }), async (make, id) => {
        cases++;
        const sent = make(id);
        const reply = await ask(sent);
        if (reply === undefined) {
          silent++;
          // Only what BIND drops gets no reply: shorter than a header, or a response (QR set).
          expect(sent.length < 12 || (sent[2]! & 0x80) !== 0, `no reply to ${sent.toString('hex')}`).toBe(true);
        } else {
          checkReply(reply, sent, sent.toString('hex'));
        }
      }),
      { numRuns: 1300 },
    );
    console.log(`dns fuzz (UDP): ${cases.toLocaleString('en-US')} cases (${formerr} malformed → FORMERR, ${silent} dropped), 0 failures`);

    await waitFor(async () => stalled.closed(), 15_000, 'the stalled TCP connection to be closed');
    const after = Date.now() - stalledAt;
    console.log(`dns fuzz: a TCP connection stalled inside a message was closed after ${after} ms`);
    expect(after).toBeGreaterThanOrEqual(9_000);
  }, 60_000);

  it('answers TCP messages in order on one connection, closes on lying lengths or malformed messages, and keeps serving', async () => {
    let cases = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 30 }),
        fc.oneof(
          malformed.map((m) => ({ kind: 'malformed' as const, bytes: (id: number) => framed(m.bytes(id)) })),
          fc.constantFrom(
            { kind: 'closes' as const, bytes: () => Buffer.from([0, 0]) },
            { kind: 'closes' as const, bytes: () => Buffer.from([0, 5, 1, 2, 3, 4, 5]) },
          ),
          fc.constant({ kind: 'none' as const, bytes: () => Buffer.alloc(0) }),
        ),
        fc.integer({ min: 1, max: 200 }),
        async (valid, last, chunk) => {
          cases++;
          const conn = await tcp(port);
          const ids = Array.from({ length: valid }, (_, i) => 1000 + i);
          const bytes = Buffer.concat([...ids.map((id) => framed(query(id))), last.bytes(9)]);
          // Written in pieces of `chunk` bytes, so lengths and messages straddle reads.
          for (let at = 0; at < bytes.length; at += chunk) conn.socket.write(bytes.subarray(at, at + chunk));
          await conn.until(valid + (last.kind === 'malformed' ? 1 : 0));
          expect(conn.replies.slice(0, valid).map((r) => r.readUInt16BE(0))).toEqual(ids);
          for (const r of conn.replies.slice(0, valid)) expect(dnsPacket.decode(r).answers?.[0]).toMatchObject({ data: '127.0.0.1' });
          if (last.kind === 'malformed') {
            expect(conn.replies[valid]![3]! & 0x0f).toBe(FORMERR);
            await waitFor(async () => conn.closed(), 5000, 'the connection closed after FORMERR');
          }
          if (last.kind === 'closes') await waitFor(async () => conn.closed(), 5000, 'the connection closed after a frame shorter than a header');
          conn.socket.destroy();
          await ask(query(2));
        },
      ),
      { numRuns: 300 },
    );
    // Many queries on one connection, pipelined.
    const conn = await tcp(port);
    const ids = Array.from({ length: 2000 }, (_, i) => i);
    conn.socket.write(Buffer.concat(ids.map((id) => framed(query(id)))));
    await conn.until(2000);
    expect(conn.replies.map((r) => r.readUInt16BE(0))).toEqual(ids);
    conn.socket.destroy();
    console.log(`dns fuzz (TCP): ${cases} connections, then 2,000 queries pipelined on one, 0 failures`);
  }, 60_000);

  it('closes a TCP connection that trickles a message byte by byte, after the timeout from its first byte', async () => {
    const zone: ZoneData = { zone: ZONE, ttl: 30, serial: 1, nameserver: `ns.${ZONE}`, clusters: new Map() };
    const server = new DnsServer(() => zone, { host: '127.0.0.1', port: 0, tcpIdleTimeoutMs: 300 });
    const { port: own } = await server.start();
    try {
      const conn = await tcp(own);
      const started = Date.now();
      // Announces 65,535 bytes, then one byte every 100 ms: never idle for 300 ms.
      conn.socket.write(Buffer.from([0xff, 0xff]));
      while (!conn.closed() && Date.now() - started < 3000) {
        conn.socket.write(Buffer.from([0]));
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(conn.closed(), 'closed while still trickling').toBe(true);
      expect(Date.now() - started).toBeLessThan(1500);
    } finally {
      await server.stop();
    }
  });

  it('cuts a half-closed TCP connection whose client goes on sending after a malformed frame', async () => {
    const zone: ZoneData = { zone: ZONE, ttl: 30, serial: 1, nameserver: `ns.${ZONE}`, clusters: new Map() };
    const server = new DnsServer(() => zone, { host: '127.0.0.1', port: 0, tcpIdleTimeoutMs: 5000 });
    const { port: own } = await server.start();
    try {
      const conn = await tcp(own, true);
      const started = Date.now();
      // A frame shorter than a header: the server ends its side; the client keeps its own open and
      // trickles bytes, which would otherwise keep resetting the idle timer.
      conn.socket.write(Buffer.from([0x00, 0x04, 1, 2, 3, 4]));
      while (!conn.closed() && Date.now() - started < 4000) {
        conn.socket.write(Buffer.from([0]));
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(conn.closed(), 'cut while still sending').toBe(true);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await server.stop();
    }
  });
});
