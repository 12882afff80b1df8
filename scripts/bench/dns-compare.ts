/**
 * Asks two DNS servers the same questions over UDP, one at a time, and compares what they answer: the
 * check that `bench:dns` measured two servers serving the same zone. Replies are decoded with dns-packet
 * (not the responder's own code).
 */
import { createSocket, type Socket } from 'node:dgram';
import * as dnsPacket from 'dns-packet';

export type Question = { name: string; type: 'A' | 'SRV' | 'SOA' | 'NS' };

/**
 * What a reply says, as comparable text: rcode, AA, then each section's records sorted, the SOA serial left
 * out (Vigil's advances with every topology load, every 10 s at least).
 */
export interface Said {
  rcode: string;
  answers: number;
  text: string;
  packet: dnsPacket.DecodedPacket;
}

const TIMEOUT_MS = 2000;

/** One question per call on a socket of its own per server (RD set and no EDNS, as dnsperf asks). */
export class DnsAsker {
  private readonly socket: Socket = createSocket('udp4');
  private id = 1;
  private waiting: { id: number; resolve: (msg: Buffer) => void } | undefined;

  constructor(private readonly port: number) {
    this.socket.on('message', (msg) => {
      if (this.waiting && msg.length >= 2 && msg.readUInt16BE(0) === this.waiting.id) this.waiting.resolve(msg);
    });
  }

  async ask(q: Question): Promise<Said> {
    const id = (this.id = (this.id % 65_535) + 1);
    const query = dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: q.name, type: q.type, class: 'IN' }] });
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer from port ${this.port} to ${q.name} ${q.type} in ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
      this.waiting = {
        id,
        resolve: (msg) => {
          clearTimeout(timer);
          resolve(msg);
        },
      };
      this.socket.send(query, this.port, '127.0.0.1');
    });
    this.waiting = undefined;
    const packet = dnsPacket.decode(reply);
    const rcode = (packet as { rcode?: string }).rcode ?? '?';
    const records = (rrs: dnsPacket.Answer[] | undefined) =>
      (rrs ?? [])
        .map(
          (r) =>
            `${r.name.toLowerCase()} ${r.type} ${'ttl' in r ? r.ttl : ''} ${JSON.stringify(r.type === 'SOA' ? { ...r.data, serial: '-' } : 'data' in r ? r.data : null)}`,
        )
        .sort()
        .join(' | ');
    const text = `${rcode} aa=${packet.flag_aa} an: ${records(packet.answers)} ns: ${records(packet.authorities)} ar: ${records(packet.additionals)}`;
    return { rcode, answers: packet.answers?.length ?? 0, text, packet };
  }

  close(): void {
    this.socket.close();
  }
}

export interface Comparison {
  questions: number;
  /** Questions whose two replies differ, with both replies (the first few). */
  differences: { question: Question; a: string; b: string }[];
  differing: number;
  /** Questions expected to hit that got no NOERROR answer, and misses not answered NXDOMAIN, per server. */
  wrong: [number, number];
}

/** Asks every question of both servers; `hit(q)` says whether the question should be answered. */
export async function compareServers(portA: number, portB: number, questions: Question[], hit: (q: Question) => boolean): Promise<Comparison> {
  const a = new DnsAsker(portA);
  const b = new DnsAsker(portB);
  const out: Comparison = { questions: questions.length, differences: [], differing: 0, wrong: [0, 0] };
  try {
    for (const q of questions) {
      const [x, y] = [await a.ask(q), await b.ask(q)];
      const expected = (s: Said) => (hit(q) ? s.rcode === 'NOERROR' && s.answers > 0 : s.rcode === 'NXDOMAIN');
      if (!expected(x)) out.wrong[0]++;
      if (!expected(y)) out.wrong[1]++;
      if (x.text !== y.text) {
        out.differing++;
        if (out.differences.length < 5) out.differences.push({ question: q, a: x.text, b: y.text });
      }
    }
  } finally {
    a.close();
    b.close();
  }
  return out;
}
