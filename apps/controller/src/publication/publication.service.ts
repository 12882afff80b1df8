import { isIP } from 'node:net';
import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { EventFeed } from '../audit/event-feed.service.js';
import { ERROR_STATUS, VigilError } from '../common/errors.js';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/config.js';
import { MasterLookup } from '../discovery/master-lookup.service.js';
import { DnsResponderService } from '../dns/dns-responder.service.js';
import { DnsUpdateService } from '../dns/dns-update.service.js';
import { WebhooksService, type WebhookSummary } from '../events-out/webhooks.service.js';
import { SentinelService } from '../sentinel/sentinel.service.js';
import { TopologyCache } from '../topology/topology-cache.service.js';
import { type ChannelAnswer, dnsChannel, dnsUpdateChannel, publicationAgreement, type Recorded, restChannel, sentinelChannel } from './publication-channels.js';

export interface Publication {
  cluster: string;
  epoch: number;
  recorded: string | null;
  channels: ChannelAnswer[];
  lastEventId: string | null;
  lastClusterEventId: string | null;
  webhooks: WebhookSummary[];
  agree: boolean;
  disagreements: string[];
}

/**
 * What every publishing channel of this controller tells clients about a cluster's master right now,
 * each asked through the code that answers its clients: the REST lookup (`MasterLookup`, failsafe
 * included), the Sentinel endpoint's `get-master-addr-by-name` reply, the DNS responder's reply to a
 * query, and the last RFC 2136 writes; then the event log's position and the webhooks that carry it.
 * Channels turned off in the configuration are left out.
 */
@Injectable()
export class PublicationService {
  constructor(
    private readonly topology: TopologyCache,
    private readonly lookup: MasterLookup,
    private readonly sentinel: SentinelService,
    private readonly dns: DnsResponderService,
    private readonly dnsUpdate: DnsUpdateService,
    private readonly feed: EventFeed,
    private readonly audit: AuditService,
    private readonly webhooks: WebhooksService,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
  ) {}

  async publication(name: string): Promise<Publication> {
    const cluster = this.topology.snapshot.clustersByName.get(name);
    if (!cluster) throw VigilError.notFound(`cluster ${name}`);
    const masters = cluster.nodes.filter((n) => n.role === 'master');
    const recorded: Recorded | null = masters.length === 1 ? { host: masters[0]!.host, port: masters[0]!.port } : null;

    const channels: ChannelAnswer[] = [await this.rest(name, recorded)];
    if (this.config.sentinelPort !== undefined) channels.push(sentinelChannel(recorded, this.sentinel.masterAddressReply(name)));
    const dnsName = this.dns.masterName(name);
    if (dnsName !== undefined) {
      const type = recorded && isIP(recorded.host) === 6 ? 'AAAA' : 'A';
      channels.push(dnsChannel(recorded, dnsName, this.dns.ask(dnsName, type)!, this.dns.ask(`_redis._tcp.${dnsName}`, 'SRV')!));
    }
    const position = this.feed.position;
    const [pushes, lastClusterEventId, webhooks] = await Promise.all([
      this.dnsUpdate.enabled ? this.dnsUpdate.lastPushes(cluster) : undefined,
      this.audit.lastClusterEventId(name, position),
      this.webhooks.summaries(cluster.id),
    ]);
    if (pushes) {
      for (const n of pushes.names) channels.push(dnsUpdateChannel(recorded, n, pushes.records));
      for (const n of pushes.outside) {
        channels.push({ channel: 'dns-update', target: n, answer: null, detail: 'outside DNS_UPDATE_ZONE: never written', agrees: false });
      }
    }
    return {
      cluster: name,
      epoch: cluster.epoch,
      recorded: recorded ? `${recorded.host}:${recorded.port}` : null,
      channels,
      lastEventId: position === '0' ? null : position,
      lastClusterEventId,
      webhooks,
      ...publicationAgreement(recorded, channels),
    };
  }

  private async rest(name: string, recorded: Recorded | null): Promise<ChannelAnswer> {
    try {
      const a = await this.lookup.answer(name, {}, undefined);
      return restChannel(recorded, { ok: true, host: a.body!.host, port: a.body!.port, epoch: a.body!.epoch, stale: a.body!.stale });
    } catch (err) {
      if (!(err instanceof VigilError)) throw err;
      return restChannel(recorded, { ok: false, status: ERROR_STATUS[err.code], message: err.message });
    }
  }
}
