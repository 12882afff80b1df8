/**
 * The inputs of `bench:dns` besides the servers: the BIND9 zone file holding what Vigil's responder
 * publishes for the same clusters, and the dnsperf query file.
 */
import type * as dnsPacket from 'dns-packet';
import { mulberry32 } from '../../libs/testing/src/index.js';
import type { Question } from './dns-compare.js';

/** A cluster as the benchmark created it: one node, the master. */
export interface BenchCluster {
  name: string;
  host: string;
  port: number;
}

/** Vigil's apex records as it answers them, copied into the BIND9 zone so both serve the same SOA and NS. */
export interface Apex {
  soa: dnsPacket.SoaAnswer;
  ns: string;
  nsAddress: string;
}

const dot = (name: string) => (name.endsWith('.') ? name : `${name}.`);

/**
 * The zone file: Vigil's SOA and NS (with the nameserver's address), and for each cluster the A record
 * of `<cluster>.<zone>` and the SRV record of `_redis._tcp.<cluster>.<zone>` pointing at it, as
 * libs/dns-server publishes a cluster whose master is known by IP address.
 */
export function zoneFileText(zone: string, apex: Apex, clusters: BenchCluster[]): string {
  const s = apex.soa.data;
  const ttl = apex.soa.ttl ?? s.minimum;
  const lines = [
    `$ORIGIN ${dot(zone)}`,
    `$TTL ${ttl}`,
    `@ IN SOA ${dot(s.mname)} ${dot(s.rname)} ${s.serial} ${s.refresh} ${s.retry} ${s.expire} ${s.minimum}`,
    `@ IN NS ${dot(apex.ns)}`,
    `${dot(apex.ns)} IN A ${apex.nsAddress}`,
  ];
  for (const c of clusters) {
    lines.push(`${c.name} IN A ${c.host}`, `_redis._tcp.${c.name} IN SRV 0 0 ${c.port} ${c.name}`);
  }
  return `${lines.join('\n')}\n`;
}

export interface QueryFile {
  /** `name type` lines, shuffled. */
  lines: string[];
  /** Every distinct question of the file. */
  questions: Question[];
  /** Names (lower case, no trailing dot) that exist. */
  hits: Set<string>;
  /** Share of lines asking a name that does not exist. */
  missShare: number;
}

/**
 * Hits: A `<cluster>.<zone>` and SRV `_redis._tcp.<cluster>.<zone>` of every cluster, `repeat` times each.
 * Misses: as many names that do not exist (`absent-<i>`), in both forms, to make `missShare` of the lines.
 * Shuffled with a fixed seed, so every run asks the same sequence.
 */
export function queryFile(zone: string, clusters: BenchCluster[], repeat: number, missShare: number): QueryFile {
  const origin = zone.replace(/\.$/, '');
  const hits = new Set<string>();
  const questions: Question[] = [];
  const lines: string[] = [];
  for (const c of clusters) {
    const a = `${c.name}.${origin}`;
    const srv = `_redis._tcp.${c.name}.${origin}`;
    hits.add(a).add(srv);
    questions.push({ name: a, type: 'A' }, { name: srv, type: 'SRV' });
    for (let i = 0; i < repeat; i++) lines.push(`${a} A`, `${srv} SRV`);
  }
  const misses = Math.round((lines.length * missShare) / (1 - missShare));
  for (let i = 0; i < misses; i++) {
    const name = `absent-${i >> 1}.${origin}`;
    const q: Question = i % 2 === 0 ? { name, type: 'A' } : { name: `_redis._tcp.${name}`, type: 'SRV' };
    questions.push(q);
    lines.push(`${q.name} ${q.type}`);
  }
  const rand = mulberry32(0xd15ea5e);
  for (let i = lines.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [lines[i], lines[j]] = [lines[j]!, lines[i]!];
  }
  return { lines, questions, hits, missShare: misses / lines.length };
}
