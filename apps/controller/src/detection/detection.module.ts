import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { LeadershipModule } from '../leadership/leadership.module.js';
import { ObservabilityModule } from '../observability/observability.module.js';
import { TopologyModule } from '../topology/topology.module.js';
import { DetectionService } from './detection.service.js';
import { ClusterHealthController } from './health.controller.js';

/** Failure detection: agent reports in, SDOWN/ODOWN transitions out (events, metrics, in-process emissions). */
@Module({
  imports: [AuditModule, TopologyModule, ObservabilityModule, LeadershipModule],
  providers: [DetectionService],
  controllers: [ClusterHealthController],
  exports: [DetectionService],
})
export class DetectionModule {}
