import { Module } from '@nestjs/common';
import { DiscoveryModule } from '../discovery/discovery.module.js';
import { FailoverModule } from '../failover/failover.module.js';
import { LeadershipModule } from '../leadership/leadership.module.js';
import { TopologyModule } from '../topology/topology.module.js';
import { DnsResponderService } from './dns-responder.service.js';
import { DnsUpdateProcessor } from './dns-update.processor.js';
import { DnsUpdateService } from './dns-update.service.js';

/** DNS publication: the built-in authoritative responder, and RFC 2136 updates to external servers. */
@Module({
  imports: [DiscoveryModule, FailoverModule, LeadershipModule, TopologyModule],
  providers: [DnsResponderService, DnsUpdateService, DnsUpdateProcessor],
  exports: [DnsResponderService, DnsUpdateService],
})
export class DnsModule {}
