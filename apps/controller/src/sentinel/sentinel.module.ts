import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { DetectionModule } from '../detection/detection.module.js';
import { DiscoveryModule } from '../discovery/discovery.module.js';
import { FailoverModule } from '../failover/failover.module.js';
import { LeadershipModule } from '../leadership/leadership.module.js';
import { ObservabilityModule } from '../observability/observability.module.js';
import { SentinelPeers } from './sentinel-peers.service.js';
import { SentinelService } from './sentinel.service.js';

/** The Sentinel-compatible RESP endpoint (`SENTINEL_PORT`): lookups, instance lists, pub/sub events. */
@Module({
  imports: [AuditModule, AuthModule, DetectionModule, DiscoveryModule, FailoverModule, LeadershipModule, ObservabilityModule],
  providers: [SentinelService, SentinelPeers],
  exports: [SentinelService],
})
export class SentinelModule {}
