import * as dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { answerQuery } from './responder.js';
import type { ZoneData } from './zone.js';
import { mulberry32 } from '../../testing/src/random.js';

const prng = mulberry32;

const zone: ZoneData = {
  zone: 'redis.example.',
  ttl: 30,
  serial: 1,
  nameserver: 'ns.redis.example.',
  nameserverAddress: '192.0.2.53',
  clusters: new Map([
    ['orders', { master: { host: '10.0.0.1', port: 6379 }, replicas: Array.from({ length: 50 }, (_, i) => ({ host: `10.0.1.${i}`, port: 6379 })) }],
    ['carts', { master: { host: '2001:db8::1', port: 6379 }, replicas: [{ host: '2001:db8::2', port: 6379 }] }],
    ['sessions', { master: { host: 'redis-1.internal.example', port: 6379 }, replicas: [] }],
    ['alias', { master: { host: 'orders.redis.example', port: 6379 }, replicas: [] }],
  ]),
};

const NAMES = [
  'orders.redis.example',
  'ORDERS.redis.EXAMPLE',
  'replicas.orders.redis.example',
  '_redis._tcp.orders.redis.example',
  '_tcp.carts.redis.example',
  'carts.redis.example',
  'sessions.redis.example',
  'alias.redis.example',
  'redis.example',
  'ns.redis.example',
  'nope.redis.example',
  'example.com',
];
const TYPES = ['A', 'AAAA', 'SRV', 'SOA', 'NS', 'CNAME', 'ANY', 'TXT', 'MX'] as dnsPacket.RecordType[];

function validQuery(rand: () => number): Buffer {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const packet: dnsPacket.Packet = {
    type: 'query',
    id: Math.floor(rand() * 65_536),
    flags: rand() < 0.5 ? dnsPacket.RECURSION_DESIRED : 0,
    questions: [{ name: pick(NAMES), type: pick(TYPES), class: 'IN' }],
  };
  if (rand() < 0.5) {
    packet.additionals = [
      {
        type: 'OPT',
        name: '.',
        udpPayloadSize: pick([512, 1232, 4096, 100]),
        flags: 0,
        options: rand() < 0.5 ? [] : [{ code: 10, data: Buffer.from('0123456789abcdef', 'hex') }],
      } as unknown as dnsPacket.Answer,
    ];
  }
  return dnsPacket.encode(packet);
}

function randomBytes(rand: () => number, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

/** Runs one case on both transports: must not throw, and whatever it answers must be a well-formed reply. */
function check(query: Buffer, what: string): void {
  for (const transport of ['udp', 'tcp'] as const) {
    let reply: Buffer | null;
    try {
      reply = answerQuery(query, zone, transport);
    } catch (err) {
      throw new Error(`${what} (${transport}) threw on ${query.toString('hex')}`, { cause: err });
    }
    if (reply === null) continue;
    expect(query.length, what).toBeGreaterThanOrEqual(12);
    expect(reply.readUInt16BE(0), what).toBe(query.readUInt16BE(0));
    expect(reply[2] & 0x80, what).toBe(0x80);
    expect(reply.length, what).toBeLessThanOrEqual(transport === 'udp' ? 4096 : 65_535);
    expect(() => dnsPacket.decode(reply), `${what}: reply does not decode: ${reply.toString('hex')}`).not.toThrow();
  }
}

/** The reference answer must not change, whatever garbage came before (the parser keeps module-level state). */
const reference = dnsPacket.encode({ type: 'query', id: 42, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: 'Orders.Redis.Example', type: 'A' }] });
const referenceReply = answerQuery(reference, zone, 'udp');
function checkReference(what: string): void {
  expect(answerQuery(reference, zone, 'udp'), what).toEqual(referenceReply);
}

describe('answerQuery fuzzing (seeded)', () => {
  it('survives random bytes', () => {
    const rand = prng(0x5eed0001);
    for (let i = 0; i < 5000; i++) {
      const length = Math.floor(rand() * (rand() < 0.8 ? 64 : 700));
      const query = randomBytes(rand, length);
      if (rand() < 0.7 && length >= 3) query[2] &= 0x7f; // mostly "queries", or little would get past the QR check
      if (rand() < 0.5 && length >= 6) query.writeUInt16BE(1, 4);
      check(query, `random #${i}`);
      if (i % 100 === 0) checkReference(`after random #${i}`);
    }
  });

  it('survives truncations of valid queries', () => {
    const rand = prng(0x5eed0002);
    for (let i = 0; i < 3000; i++) {
      const query = validQuery(rand);
      const cut = query.subarray(0, Math.floor(rand() * query.length));
      check(cut, `truncation #${i}`);
      check(query, `valid #${i}`);
      if (i % 100 === 0) checkReference(`after truncation #${i}`);
    }
  });

  it('survives bit flips and byte changes in valid queries', () => {
    const rand = prng(0x5eed0003);
    for (let i = 0; i < 6000; i++) {
      const query = Buffer.from(validQuery(rand));
      const flips = 1 + Math.floor(rand() * 8);
      for (let f = 0; f < flips; f++) {
        const at = Math.floor(rand() * query.length);
        if (rand() < 0.7) query[at] ^= 1 << Math.floor(rand() * 8);
        else query[at] = Math.floor(rand() * 256);
      }
      check(query, `flip #${i}`);
      if (i % 100 === 0) checkReference(`after flip #${i}`);
    }
  });

  it('survives compression-pointer loops and odd pointers anywhere in the message', () => {
    const rand = prng(0x5eed0004);
    const header = (qd: number, an: number, ns: number, ar: number) => {
      const h = Buffer.alloc(12);
      h.writeUInt16BE(0x4242, 0);
      h.writeUInt16BE(qd, 4);
      h.writeUInt16BE(an, 6);
      h.writeUInt16BE(ns, 8);
      h.writeUInt16BE(ar, 10);
      return h;
    };
    const fixed = Buffer.from([0, 1, 0, 1]);
    const cases: Buffer[] = [
      Buffer.concat([header(1, 0, 0, 0), Buffer.from([0xc0, 0x0c]), fixed]), // question points at itself
      Buffer.concat([header(1, 0, 0, 0), Buffer.from([0x01, 0x61, 0xc0, 0x0c]), fixed]), // a.(loop)
      Buffer.concat([header(1, 0, 0, 0), Buffer.from([0x01, 0x61, 0xc0, 0x0e]), fixed]), // points at the pointer
      Buffer.concat([header(1, 0, 0, 0), Buffer.from([0xc0, 0x00]), fixed]), // points at the header
      Buffer.concat([header(1, 0, 0, 0), Buffer.from([0xc0, 0x20]), fixed]), // points forward
      Buffer.concat([header(1, 0, 0, 0), Buffer.from([0xc0]), fixed]), // half a pointer
      Buffer.concat([header(1, 0, 0, 1), Buffer.from([0x01, 0x61, 0x00]), fixed, Buffer.from([0xc0, 0x11, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0])]),
      Buffer.concat([header(1, 1, 0, 0), Buffer.from([0x01, 0x61, 0x00]), fixed, Buffer.from([0xc0, 0x11, 0, 1, 0, 1, 0, 0, 0, 0, 0xff, 0xff])]),
      Buffer.concat([header(1, 0, 0, 65_535), Buffer.from([0x01, 0x61, 0x00]), fixed, Buffer.from([0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0])]),
      Buffer.concat([header(65_535, 65_535, 65_535, 65_535), Buffer.from([0x01, 0x61, 0x00]), fixed]),
    ];
    cases.forEach((c, i) => check(c, `pointer case #${i}`));
    // Random mixes of labels and pointers, in the question and in a record after it.
    for (let i = 0; i < 3000; i++) {
      const parts: number[] = [];
      const pieces = 1 + Math.floor(rand() * 6);
      for (let p = 0; p < pieces; p++) {
        if (rand() < 0.4) parts.push(0xc0 | Math.floor(rand() * 4), Math.floor(rand() * 256));
        else {
          const len = Math.floor(rand() * 70);
          parts.push(len, ...randomBytes(rand, Math.min(len, Math.floor(rand() * 80))));
        }
      }
      if (rand() < 0.5) parts.push(0);
      const name = Buffer.from(parts);
      const inQuestion = rand() < 0.5;
      const query = inQuestion
        ? Buffer.concat([header(1, 0, 0, 0), name, fixed])
        : Buffer.concat([header(1, 0, 0, 1), Buffer.from([0x01, 0x61, 0x00]), fixed, name, Buffer.from([0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0])]);
      check(query, `pointer mix #${i}`);
      if (i % 100 === 0) checkReference(`after pointer mix #${i}`);
    }
  });
});
