/**
 * What the responder publishes (`ZoneData`) and its compiled form: owner names of the zone in wire format,
 * each with its record sets. Empty non-terminals (`_tcp.<cluster>.<zone>`, or the labels between the apex
 * and a nameserver placed deeper in the zone) are nodes without records, so they answer NODATA rather than
 * NXDOMAIN.
 *
 * The apex is compiled at once; the names of a cluster only when one of them is first asked for, so a new
 * `ZoneData` for a zone of thousands of clusters costs next to nothing until queries come, and then only
 * for the clusters that are asked about.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** A Redis endpoint. `host` is an IPv4 address, an IPv6 address or a hostname. */
export interface DnsTarget {
  host: string;
  port: number;
}

export interface DnsCluster {
  master: DnsTarget | null;
  replicas: DnsTarget[];
  /**
   * The publisher cannot vouch for this cluster now: every name of it answers SERVFAIL (resolvers try
   * another server and cache nothing), where NXDOMAIN or NODATA would be cached as an answer.
   */
  unavailable?: boolean;
}

/**
 * Everything the responder publishes. Treated as immutable: the responder caches encoded answers per
 * `ZoneData` object, so a change must come as a new object (mutating one in place is not noticed).
 */
export interface ZoneData {
  /** Lower-case FQDN with trailing dot, e.g. `redis.example.`. */
  zone: string;
  /** Seconds; TTL of every record and the SOA minimum (negative-caching TTL). */
  ttl: number;
  /** SOA serial; taken modulo 2^32. */
  serial: number;
  /** NS target FQDN, e.g. `ns.redis.example.`; also the SOA MNAME. */
  nameserver: string;
  /** Address of `nameserver` (IPv4 or IPv6), published when `nameserver` is inside the zone. */
  nameserverAddress?: string;
  /** Cluster label (a single lower-case DNS label) → its current master and replicas. */
  clusters: Map<string, DnsCluster>;
}

export const TYPE_A = 1;
export const TYPE_NS = 2;
export const TYPE_CNAME = 5;
export const TYPE_SOA = 6;
export const TYPE_AAAA = 28;
export const TYPE_SRV = 33;
export const TYPE_OPT = 41;
export const TYPE_IXFR = 251;
export const TYPE_AXFR = 252;
export const TYPE_MAILB = 253;
export const TYPE_MAILA = 254;
export const TYPE_ANY = 255;

export const CLASS_IN = 1;
export const CLASS_ANY = 255;

/** SOA timers other than the minimum, in seconds. */
export const SOA_REFRESH = 3600;
export const SOA_RETRY = 600;
export const SOA_EXPIRE = 86_400;

/** Record data, kept structured so the encoder can compress the names inside it. */
export type Rdata =
  | { kind: 'address'; bytes: Buffer }
  | { kind: 'name'; name: Buffer }
  | { kind: 'soa'; mname: Buffer; rname: Buffer; serial: number; refresh: number; retry: number; expire: number; minimum: number }
  | { kind: 'srv'; priority: number; weight: number; port: number; target: Buffer };

export interface ResourceRecord {
  /** Owner name, lower-case wire format. */
  owner: Buffer;
  type: number;
  ttl: number;
  rdata: Rdata;
}

export interface ZoneNode {
  /** Record sets by type (never CNAME: that lives in `cname`). */
  rrsets: Map<number, ResourceRecord[]>;
  cname: ResourceRecord | null;
  /**
   * Encoded positive answers for this name, by `(qtype << 2) | (class ANY ? 2 : 0) | (EDNS ? 1 : 0)`, with
   * ID 0, RD/CD clear and the question name in lower case. Bounded by the few types a node holds.
   */
  answers: Map<number, Buffer> | null;
  /** A name of an unavailable cluster: answered SERVFAIL. */
  servfail?: boolean;
}

export class ZoneDataError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = 'ZoneDataError';
  }
}

const LABEL = /^[a-z0-9_-]{1,63}$/;

/**
 * Text name → lower-case wire format, or null if it is not a valid host-style name (labels of letters,
 * digits, `-` and `_`, at most 63 bytes each and 255 in all). A trailing dot is optional; `.` is the root.
 */
export function nameToWire(name: string): Buffer | null {
  let text = name.toLowerCase();
  if (text.endsWith('.')) text = text.slice(0, -1);
  if (text === '') return Buffer.from([0]);
  const labels = text.split('.');
  let length = 1;
  for (const label of labels) {
    if (!LABEL.test(label)) return null;
    length += label.length + 1;
  }
  if (length > 255) return null;
  const out = Buffer.allocUnsafe(length);
  let p = 0;
  for (const label of labels) {
    out[p++] = label.length;
    p += out.write(label, p, 'latin1');
  }
  out[p] = 0;
  return out;
}

/** Wire format → text with trailing dot (for messages). */
export function wireToName(wire: Buffer): string {
  const labels: string[] = [];
  for (let p = 0; wire[p] !== 0; p += wire[p] + 1) labels.push(wire.toString('latin1', p + 1, p + 1 + wire[p]));
  return labels.length === 0 ? '.' : `${labels.join('.')}.`;
}

function concatNames(child: Buffer, parent: Buffer): Buffer | null {
  const length = child.length - 1 + parent.length;
  return length > 255 ? null : Buffer.concat([child.subarray(0, child.length - 1), parent]);
}

/** Whether `name` is `apex` or below it (both lower-case wire format). */
export function isInZone(name: Buffer, apex: Buffer): boolean {
  const offset = name.length - apex.length;
  if (offset < 0) return false;
  // The apex must start at a label boundary of `name`.
  let p = 0;
  while (p < offset) p += name[p] + 1;
  return p === offset && name.compare(apex, 0, apex.length, offset) === 0;
}

/** Parses an IPv4 address into 4 bytes, or null. */
export function parseIPv4(text: string): Buffer | null {
  if (!isIPv4(text)) return null;
  return Buffer.from(text.split('.').map(Number));
}

/** Parses an IPv6 address (with `::`, an embedded IPv4 tail, and an optional `%zone` which is dropped) into 16 bytes, or null. */
export function parseIPv6(text: string): Buffer | null {
  if (!isIPv6(text)) return null;
  const address = text.split('%')[0];
  const out = Buffer.alloc(16);
  const halves = address.split('::');
  const groups = (part: string): number[] => {
    if (part === '') return [];
    const words: number[] = [];
    for (const piece of part.split(':')) {
      if (piece.includes('.')) {
        const v4 = parseIPv4(piece);
        if (!v4) return [NaN];
        words.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        words.push(parseInt(piece, 16));
      }
    }
    return words;
  };
  const head = groups(halves[0]);
  const tail = halves.length > 1 ? groups(halves[1]) : [];
  if (head.length + tail.length > 8 || [...head, ...tail].some((w) => !(w >= 0 && w <= 0xffff))) return null;
  head.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  tail.forEach((w, i) => out.writeUInt16BE(w, (8 - tail.length + i) * 2));
  return out;
}

function addressRecord(owner: Buffer, host: string, ttl: number): ResourceRecord | null {
  const v4 = parseIPv4(host);
  if (v4) return { owner, type: TYPE_A, ttl, rdata: { kind: 'address', bytes: v4 } };
  const v6 = parseIPv6(host);
  if (v6) return { owner, type: TYPE_AAAA, ttl, rdata: { kind: 'address', bytes: v6 } };
  return null;
}

function validPort(port: unknown): port is number {
  return typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65_535;
}

/** Wire-format OPT record as this responder sends it: UDP payload size 1232, version 0, no flags, no options. */
export const EDNS_UDP_PAYLOAD = 1232;
export function optRecord(extendedRcode: number): Buffer {
  const out = Buffer.alloc(11);
  out.writeUInt16BE(TYPE_OPT, 1);
  out.writeUInt16BE(EDNS_UDP_PAYLOAD, 3);
  out[5] = extendedRcode;
  return out;
}

/**
 * `ZoneData` compiled for answering. Throws `ZoneDataError` when the zone itself cannot be served (bad zone
 * name, TTL, serial, nameserver or nameserver address). Entries of `clusters` that cannot be published (bad
 * label, host or port) are skipped and described in `warnings` once their cluster is compiled (all of them
 * after `compileAll()`).
 */
export class CompiledZone {
  /** Apex in lower-case wire format. */
  readonly apex: Buffer;
  /** Names compiled so far, keyed by their lower-case wire format read as latin1. */
  readonly nodes = new Map<string, ZoneNode>();
  readonly soa: ResourceRecord;
  /**
   * The tail of every NXDOMAIN/NODATA answer after the question: the SOA record written without
   * compression (so it does not depend on where the question ends), then the OPT record when the query
   * had one. Index 0 without EDNS, 1 with.
   */
  readonly negativeTail: [Buffer, Buffer];
  readonly warnings: string[] = [];

  private readonly apexKey: string;
  private readonly ttl: number;
  /** Everything besides the clusters that their compiled names and cached answers depend on. */
  private readonly settings: string;
  private readonly clusters: Map<string, DnsCluster>;
  private readonly compiledClusters = new Map<string, CompiledCluster>();
  /** Clusters compiled for earlier `ZoneData` with the same settings, taken over when unchanged. */
  private readonly inherited: Map<string, CompiledCluster>;

  /**
   * `previous`, the zone this one replaces, lends its compiled clusters: those whose data did not change
   * are taken over with their cached answers, so that replacing `ZoneData` after a change to one cluster
   * does not mean compiling and encoding all the others again.
   */
  constructor(data: ZoneData, previous?: CompiledZone) {
    const apex = typeof data.zone === 'string' ? nameToWire(data.zone) : null;
    if (!apex) throw new ZoneDataError(`invalid zone name ${JSON.stringify(data.zone)}`);
    const ttl = data.ttl;
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > 0x7fffffff) throw new ZoneDataError(`invalid TTL ${String(ttl)}`);
    if (typeof data.serial !== 'number' || !Number.isFinite(data.serial) || data.serial < 0) throw new ZoneDataError(`invalid serial ${String(data.serial)}`);
    const nameserver = typeof data.nameserver === 'string' ? nameToWire(data.nameserver) : null;
    if (!nameserver || nameserver.length === 1) throw new ZoneDataError(`invalid nameserver ${JSON.stringify(data.nameserver)}`);
    const rname = concatNames(HOSTMASTER, apex);
    if (!rname) throw new ZoneDataError(`zone name too long for the SOA RNAME hostmaster.${data.zone}`);
    if (!(data.clusters instanceof Map)) throw new ZoneDataError('clusters must be a Map');

    this.apex = apex;
    this.apexKey = apex.toString('latin1');
    this.ttl = ttl;
    this.clusters = data.clusters;
    this.settings = [this.apexKey, ttl, nameserver.toString('latin1'), String(data.nameserverAddress)].join('\u0000');
    this.inherited = previous?.settings === this.settings ? previous.handDown(data.clusters) : new Map();
    const rdata: Rdata = {
      kind: 'soa',
      mname: nameserver,
      rname,
      serial: Math.trunc(data.serial) % 2 ** 32,
      refresh: SOA_REFRESH,
      retry: SOA_RETRY,
      expire: SOA_EXPIRE,
      minimum: ttl,
    };
    this.soa = { owner: apex, type: TYPE_SOA, ttl, rdata };
    this.node(apex);
    this.add(this.soa, 'SOA');
    this.add({ owner: apex, type: TYPE_NS, ttl, rdata: { kind: 'name', name: nameserver } }, 'NS');
    if (data.nameserverAddress !== undefined && isInZone(nameserver, apex)) {
      const rr = addressRecord(nameserver, data.nameserverAddress, ttl);
      if (!rr) throw new ZoneDataError(`nameserverAddress ${JSON.stringify(data.nameserverAddress)} is not an IP address`);
      this.add(rr, 'nameserver address');
      // A cluster whose name is (or is above) the nameserver's must be compiled now: its node exists already.
      if (nameserver.length > apex.length) {
        let p = 0;
        while (p + nameserver[p] + 1 < nameserver.length - apex.length) p += nameserver[p] + 1;
        this.compileCluster(nameserver.toString('latin1', p + 1, p + 1 + nameserver[p]));
      }
    }
    const soaWire = encodeStandalone(this.soa);
    this.negativeTail = [soaWire, Buffer.concat([soaWire, optRecord(0)])];
  }

  /** The node of a name (lower-case wire format read as latin1), compiling its cluster first if need be. */
  find(key: string): ZoneNode | undefined {
    const node = this.nodes.get(key);
    if (node !== undefined) return node;
    // Names below the apex belong to the cluster named by their label just under it.
    const end = key.length - this.apexKey.length;
    if (end <= 0 || !key.endsWith(this.apexKey)) return undefined;
    let p = 0;
    while (p + key.charCodeAt(p) + 1 < end) p += key.charCodeAt(p) + 1;
    if (p + key.charCodeAt(p) + 1 !== end) return undefined;
    return this.compileCluster(key.slice(p + 1, end)) ? this.nodes.get(key) : undefined;
  }

  /** Whether a name (lower-case wire format read as latin1) is the apex or below it. */
  contains(key: string): boolean {
    const end = key.length - this.apexKey.length;
    if (end < 0 || !key.endsWith(this.apexKey)) return false;
    let p = 0;
    while (p < end) p += key.charCodeAt(p) + 1;
    return p === end;
  }

  /** Compiles every cluster (for `warnings`). */
  compileAll(): this {
    for (const label of this.clusters.keys()) this.compileCluster(label);
    return this;
  }

  /** The compiled clusters a successor for `clusters` may take over (it still checks their data). */
  private handDown(clusters: Map<string, DnsCluster>): Map<string, CompiledCluster> {
    const out = new Map<string, CompiledCluster>();
    for (const source of [this.inherited, this.compiledClusters]) {
      for (const [label, compiled] of source) if (compiled.reusable && clusters.has(label)) out.set(label, compiled);
    }
    return out;
  }

  /** Adds the names and records of one cluster; false when it was compiled already or does not exist. */
  private compileCluster(label: string): boolean {
    const cluster = this.clusters.get(label);
    if (cluster === undefined || this.compiledClusters.has(label)) return false;
    const fingerprint = clusterFingerprint(cluster);
    const earlier = this.inherited.get(label);
    if (earlier !== undefined && earlier.fingerprint === fingerprint) {
      for (const [key, node] of earlier.nodes) this.nodes.set(key, node);
      this.compiledClusters.set(label, earlier);
      return true;
    }
    const compiled: CompiledCluster = { fingerprint, nodes: [], reusable: true };
    this.compiledClusters.set(label, compiled);
    const what = `cluster ${JSON.stringify(label)}`;
    const own = LABEL.test(label) ? concatNames(nameToWire(label)!, this.apex) : null;
    const srvName = own && concatNames(REDIS_TCP, own);
    const replicasName = own && concatNames(REPLICAS, own);
    if (!own || !srvName || !replicasName) {
      this.warnings.push(`${what}: not a lower-case DNS label that fits under ${wireToName(this.apex)}; skipped`);
      return true;
    }
    // A name shared with the nameserver's holds records that are not the cluster's own.
    if (this.nodes.has(own.toString('latin1'))) compiled.reusable = false;
    // The names of a cluster exist whether or not it has a master or replicas (NODATA, not NXDOMAIN).
    this.node(srvName);
    this.node(replicasName);
    if (cluster?.unavailable === true) {
      for (const name of [own, concatNames(TCP, own)!, srvName, replicasName]) {
        const node = this.node(name);
        // A name shared with the nameserver keeps answering for the nameserver.
        if (node.rrsets.size === 0 && node.cname === null) node.servfail = true;
        compiled.nodes.push([name.toString('latin1'), node]);
      }
      return true;
    }

    const ttl = this.ttl;
    const master = cluster?.master;
    if (master) {
      const address = typeof master.host === 'string' ? addressRecord(own, master.host, ttl) : null;
      const hostname = address || typeof master.host !== 'string' ? null : nameToWire(master.host);
      if (!validPort(master.port)) {
        this.warnings.push(`${what}: master port ${String(master.port)} is invalid; master not published`);
      } else if (!address && !(hostname && hostname.length > 1)) {
        this.warnings.push(`${what}: master host ${JSON.stringify(master.host)} is neither an IP address nor a hostname; master not published`);
      } else if (this.hasAddress(own)) {
        this.warnings.push(`${what}: ${wireToName(own)} is taken by the nameserver address; master not published`);
      } else {
        // An IP master is published at the cluster name and the SRV record points there; a hostname
        // master gets a CNAME and the SRV record points at the hostname itself.
        const target = address ? own : hostname!;
        // Answers that follow a CNAME into the zone hold other clusters' records.
        if (!address && isInZone(target, this.apex)) compiled.reusable = false;
        this.add(address ?? { owner: own, type: TYPE_CNAME, ttl, rdata: { kind: 'name', name: target } }, what);
        this.add({ owner: srvName, type: TYPE_SRV, ttl, rdata: { kind: 'srv', priority: 0, weight: 0, port: master.port, target } }, what);
      }
    }
    for (const replica of cluster?.replicas ?? []) {
      const rr = typeof replica?.host === 'string' ? addressRecord(replicasName, replica.host, ttl) : null;
      // Replicas are published by address only: a name cannot hold several CNAMEs.
      if (rr) this.add(rr, what);
      else this.warnings.push(`${what}: replica host ${JSON.stringify(replica?.host)} is not an IP address; not published`);
    }
    for (const name of [own, own && concatNames(TCP, own), srvName, replicasName]) {
      const key = name!.toString('latin1');
      compiled.nodes.push([key, this.nodes.get(key)!]);
    }
    return true;
  }

  /** The node of `name` (inside the zone), created with its missing ancestors up to the apex. */
  private node(name: Buffer): ZoneNode {
    const key = name.toString('latin1');
    let node = this.nodes.get(key);
    if (!node) {
      node = { rrsets: new Map(), cname: null, answers: null };
      this.nodes.set(key, node);
      if (name.length > this.apex.length) this.node(name.subarray(name[0] + 1));
    }
    return node;
  }

  /** Adds a record unless it would clash with a CNAME (first one in wins) or repeat one already there. */
  private add(rr: ResourceRecord, what: string): void {
    const node = this.node(rr.owner);
    if (node.cname || (rr.type === TYPE_CNAME && node.rrsets.size > 0)) {
      this.warnings.push(`${what}: ${wireToName(rr.owner)} already has other records; skipped`);
      return;
    }
    if (rr.type === TYPE_CNAME) {
      node.cname = rr;
      return;
    }
    let set = node.rrsets.get(rr.type);
    if (!set) node.rrsets.set(rr.type, (set = []));
    const bytes = rr.rdata.kind === 'address' ? rr.rdata.bytes : null;
    if (bytes && set.some((other) => other.rdata.kind === 'address' && other.rdata.bytes.equals(bytes))) return;
    set.push(rr);
  }

  /** Whether the node of `name` holds address records or a CNAME already. */
  private hasAddress(name: Buffer): boolean {
    const node = this.nodes.get(name.toString('latin1'));
    return !!node && (node.cname !== null || node.rrsets.has(TYPE_A) || node.rrsets.has(TYPE_AAAA));
  }
}

/** The names of one cluster as compiled, with what they were compiled from. */
interface CompiledCluster {
  fingerprint: string;
  nodes: [string, ZoneNode][];
  /** False when the nodes depend on more than the cluster's data and the zone settings. */
  reusable: boolean;
}

/** Everything of a cluster that its records depend on. */
function clusterFingerprint(cluster: DnsCluster): string {
  if (cluster?.unavailable === true) return '\u0002unavailable';
  const master = cluster?.master;
  let print = master ? `${String(master.host)}\u0000${String(master.port)}` : '';
  for (const replica of cluster?.replicas ?? []) print += `\u0001${String(replica?.host)}`;
  return print;
}

const HOSTMASTER = nameToWire('hostmaster')!;
const TCP = nameToWire('_tcp')!;
const REDIS_TCP = nameToWire('_redis._tcp')!;
const REPLICAS = nameToWire('replicas')!;

/** One record in wire format with every name written in full (no compression pointers). */
export function encodeStandalone(rr: ResourceRecord): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(rr.type, 0);
  fixed.writeUInt16BE(CLASS_IN, 2);
  fixed.writeUInt32BE(rr.ttl, 4);
  const rdata = rdataStandalone(rr.rdata);
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([rr.owner, fixed, rdata]);
}

function rdataStandalone(rdata: Rdata): Buffer {
  switch (rdata.kind) {
    case 'address':
      return rdata.bytes;
    case 'name':
      return rdata.name;
    case 'srv': {
      const head = Buffer.alloc(6);
      head.writeUInt16BE(rdata.priority, 0);
      head.writeUInt16BE(rdata.weight, 2);
      head.writeUInt16BE(rdata.port, 4);
      return Buffer.concat([head, rdata.target]);
    }
    case 'soa': {
      const timers = Buffer.alloc(20);
      [rdata.serial, rdata.refresh, rdata.retry, rdata.expire, rdata.minimum].forEach((v, i) => timers.writeUInt32BE(v, i * 4));
      return Buffer.concat([rdata.mname, rdata.rname, timers]);
    }
  }
}

/**
 * Problems in `data` that would keep the responder from publishing it, or parts of it; empty when all of
 * it is published. A fatal problem (the zone cannot be served at all) is the only entry when present.
 */
export function validateZoneData(data: ZoneData): string[] {
  try {
    return new CompiledZone(data).compileAll().warnings;
  } catch (err) {
    if (err instanceof ZoneDataError) return [err.message];
    throw err;
  }
}
