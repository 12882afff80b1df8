import { isIP } from 'node:net';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DnsServer, type DnsCluster, type ZoneData } from '../../../../libs/dns-server/src/index.js';
import { announceHost } from '../common/announce.js';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/config.js';
import { MasterDirectory } from '../discovery/master-directory.service.js';
import type { TopologySnapshot } from '../topology/topology-cache.service.js';

/** The zone as the topology gives it: `<cluster>.<zone>` → master, `replicas.<cluster>.<zone>` → replicas. */
export function zoneFrom(snapshot: TopologySnapshot, directory: MasterDirectory, base: Omit<ZoneData, 'clusters'>): ZoneData {
  const clusters = new Map<string, DnsCluster>();
  for (const c of snapshot.clusters) {
    const master = directory.get(c.name) ?? null;
    clusters.set(c.name, {
      master: master ? { host: master.host, port: master.port } : null,
      replicas: c.nodes.filter((n) => n.role === 'replica').map((n) => ({ host: n.host, port: n.port })),
    });
  }
  return { ...base, clusters };
}

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

  constructor(
    private readonly directory: MasterDirectory,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
  ) {}

  get port(): number {
    return this.boundPort;
  }

  async onApplicationBootstrap(): Promise<void> {
    const { dnsPort, dnsZone } = this.config;
    if (dnsPort === undefined || dnsZone === undefined) return;
    const nsAddress = announceHost(this.config);
    const rebuild = () => {
      // Seconds since the epoch, kept increasing: secondaries and caches see every change as newer.
      this.serial = Math.max(this.serial + 1, Math.floor(Date.now() / 1000));
      this.zone = zoneFrom(this.directory.snapshot, this.directory, {
        zone: dnsZone,
        ttl: this.config.dnsTtl,
        serial: this.serial,
        nameserver: `ns.${dnsZone}`,
        ...(isIP(nsAddress) ? { nameserverAddress: nsAddress } : {}),
      });
    };
    rebuild();
    this.directory.onSnapshot(rebuild);
    // A replica that cannot vouch for its topology answers SERVFAIL: resolvers then ask another one.
    this.server = new DnsServer(() => (this.directory.isFresh() ? this.zone! : null), {
      host: this.config.publishHost,
      port: dnsPort,
      onError: (err) => this.logger.warn({ err: err.message }, 'DNS responder'),
    });
    this.boundPort = (await this.server.start()).port;
    this.logger.log({ port: this.boundPort, zone: dnsZone }, 'DNS responder listening');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server?.stop();
  }
}
