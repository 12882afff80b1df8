import { Module } from '@nestjs/common';
import { DiscoveryModule } from '../discovery/discovery.module.js';
import { DnsResponderService } from './dns-responder.service.js';

/** DNS publication: the built-in authoritative responder, and RFC 2136 updates to external servers. */
@Module({
  imports: [DiscoveryModule],
  providers: [DnsResponderService],
  exports: [DnsResponderService],
})
export class DnsModule {}
