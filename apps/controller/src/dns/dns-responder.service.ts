import { isIP } from 'node:net';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DnsServer, type DnsCluster, type DnsTarget, type ZoneData } from '../../../../libs/dns-server/src/index.js';
import { announceHost } from '../common/announce.js';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/config.js';
import { FailsafeService } from '../discovery/failsafe.service.js';
import { MasterDirectory } from '../discovery/master-directory.service.js';
import type { CachedCluster, TopologyChange, TopologySnapshot } from '../topology/topology-cache.service.js';
import { changedByName } from '../topology/topology-snapshot.js';
import { askResponder, type ResponderAnswer } from './responder-answer.js';

function dnsCluster(c: CachedCluster, directory: MasterDirectory): DnsCluster {
  const master = directory.get(c.name) ?? null;
  return {
    master: master ? { host: master.host, port: master.port } : null,
    replicas: c.nodes.filter((n) => n.role === 'replica').map((n) => ({ host: n.host, port: n.port })),
  };
}

const sameTarget = (a: DnsTarget | null, b: DnsTarget | null) => (a === null || b === null ? a === b : a.host === b.host && a.port === b.port);

function sameDnsCluster(a: DnsCluster | undefined, b: DnsCluster): boolean {
  return (
    a !== undefined &&
    !a.unavailable === !b.unavailable &&
    sameTarget(a.master, b.master) &&
    a.replicas.length === b.replicas.length &&
    a.replicas.every((r, i) => sameTarget(r, b.replicas[i]!))
  );
}

/**
 * The zone's clusters as the topology gives them: `<cluster>.<zone>` → master, `replicas.<cluster>.<zone>`
 * → replicas. `previous` itself when nothing a client could see changed (so the serial stays and the
 * compiled names and cached answers are kept); a partial change looks at the clusters it names only.
 */
export function zoneClusters(
  snapshot: TopologySnapshot,
  directory: MasterDirectory,
  previous?: Map<string, DnsCluster>,
  change: TopologyChange = { kind: 'full' },
): Map<string, DnsCluster> {
  if (previous && change.kind === 'clusters') {
    let next: Map<string, DnsCluster> | undefined;
    const edit = () => (next ??= new Map(previous));
    const { current, removed } = changedByName(snapshot, change);
    for (const name of removed) if (previous.has(name)) edit().delete(name);
    for (const c of current) {
      const entry = dnsCluster(c, directory);
      if (!sameDnsCluster(previous.get(c.name), entry)) edit().set(c.name, entry);
    }
    return next ?? previous;
  }
  const clusters = new Map<string, DnsCluster>();
  let same = previous !== undefined && previous.size === snapshot.clusters.length;
  for (const c of snapshot.clusters) {
    const entry = dnsCluster(c, directory);
    clusters.set(c.name, entry);
    if (same) same = sameDnsCluster(previous!.get(c.name), entry);
  }
  return same ? previous! : clusters;
}

/**
 * The zone in failsafe: the clusters `vouched` keeps answer as in `zone`, every other one is marked
 * unavailable (SERVFAIL). Returns `previous` (an earlier result for the same `zone`) when it already says
 * the same, so its compiled names and cached answers stay.
 */
export function failsafeZone(zone: ZoneData, vouched: (cluster: string) => boolean, previous?: ZoneData): ZoneData {
  const clusters = new Map<string, DnsCluster>();
  let same = previous !== undefined && previous.clusters.size === zone.clusters.size;
  for (const [name, c] of zone.clusters) {
    const entry = vouched(name) ? c : { master: null, replicas: [], unavailable: true };
    clusters.set(name, entry);
    if (same) {
      const before = previous!.clusters.get(name);
      same = before !== undefined && (before === c ? entry === c : entry !== c && before.unavailable === true);
    }
  }
  return same ? previous! : { ...zone, clusters };
}

/** How long a failsafe zone is reused before the agents' views are asked again. */
const FAILSAFE_ZONE_MS = 100;

/**
 * The built-in authoritative DNS responder on `DNS_PORT` (UDP and TCP) for `DNS_ZONE`. The zone is
 * rebuilt from every committed topology snapshot; queries are answered from memory on every replica.
 */
@Injectable()
export class DnsResponderService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DnsResponderService.name);
  private server: DnsServer | undefined;
  private zone: ZoneData | undefined;
  private serial = 0;
  private boundPort = 0;
  /** The last failsafe zone, the zone it was derived from, and when. */
  private failsafe: { zone: ZoneData; base: ZoneData; at: number } | undefined;

  constructor(
    private readonly directory: MasterDirectory,
    private readonly failsafeService: FailsafeService,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
  ) {}

  get port(): number {
    return this.boundPort;
  }

  /** The name the responder publishes a cluster's master at (`<cluster>.<DNS_ZONE>`), or undefined when it is off. */
  masterName(cluster: string): string | undefined {
    return this.server && this.config.dnsZone ? `${cluster}.${this.config.dnsZone}` : undefined;
  }

  /**
   * What a client asking `name` gets now, answered by the listeners' own code (`DnsServer.answer`, the
   * zone of the moment, failsafe included) without a socket; undefined when the responder is off.
   */
  ask(name: string, type: 'A' | 'AAAA' | 'SRV'): ResponderAnswer | undefined {
    const server = this.server;
    return server ? askResponder((query) => server.answer(query, 'tcp'), name, type) : undefined;
  }

  async onApplicationBootstrap(): Promise<void> {
    const { dnsPort, dnsZone } = this.config;
    if (dnsPort === undefined || dnsZone === undefined) return;
    const nsAddress = announceHost(this.config);
    const rebuild = (snapshot: TopologySnapshot, change?: TopologyChange) => {
      const clusters = zoneClusters(snapshot, this.directory, this.zone?.clusters, change);
      if (this.zone && clusters === this.zone.clusters) return; // nothing visible changed: same zone, same serial
      // Seconds since the epoch, kept increasing: secondaries and caches see every change as newer.
      this.serial = Math.max(this.serial + 1, Math.floor(Date.now() / 1000));
      this.zone = {
        zone: dnsZone,
        ttl: this.config.dnsTtl,
        serial: this.serial,
        nameserver: `ns.${dnsZone}`,
        ...(isIP(nsAddress) ? { nameserverAddress: nsAddress } : {}),
        clusters,
      };
    };
    rebuild(this.directory.snapshot);
    this.directory.onSnapshot(rebuild);
    this.server = new DnsServer(() => this.currentZone(), {
      host: this.config.publishHost,
      port: dnsPort,
      onError: (err) => this.logger.warn({ err: err.message }, 'DNS responder'),
    });
    this.boundPort = (await this.server.start()).port;
    this.logger.log({ port: this.boundPort, zone: dnsZone }, 'DNS responder listening');
  }

  /**
   * A replica that cannot vouch for its topology answers SERVFAIL (resolvers then ask another one),
   * except in failsafe (PostgreSQL unreachable), where the clusters whose last committed master the
   * agents vouch for keep answering.
   */
  private currentZone(): ZoneData | null {
    const now = Date.now();
    if (this.directory.isFresh(now)) {
      this.failsafe = undefined;
      return this.zone!;
    }
    if (!this.failsafeService.active(now)) return null;
    const base = this.zone!;
    if (this.failsafe === undefined || this.failsafe.base !== base || now - this.failsafe.at >= FAILSAFE_ZONE_MS) {
      const previous = this.failsafe?.base === base ? this.failsafe.zone : undefined;
      const zone = failsafeZone(base, (name) => this.failsafeService.lookup(name, now).kind === 'master', previous);
      this.failsafe = { zone, base, at: now };
    }
    return this.failsafe.zone;
  }

  /** Stops answering before the rest of the controller goes: resolvers get a refusal and ask another server. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.server?.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server?.stop();
  }
}
