import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { DiscoveryModule } from '../discovery/discovery.module.js';
import { DnsModule } from '../dns/dns.module.js';
import { EventsOutModule } from '../events-out/events-out.module.js';
import { SentinelModule } from '../sentinel/sentinel.module.js';
import { TopologyModule } from '../topology/topology.module.js';
import { PublicationController } from './publication.controller.js';
import { PublicationService } from './publication.service.js';

/** `GET /clusters/{name}/publication`: every publishing channel's answer side by side (reads the publishers, never drives them). */
@Module({
  imports: [AuditModule, DiscoveryModule, DnsModule, EventsOutModule, SentinelModule, TopologyModule],
  providers: [PublicationService],
  controllers: [PublicationController],
})
export class PublicationModule {}
