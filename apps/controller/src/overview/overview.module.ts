import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { DetectionModule } from '../detection/detection.module.js';
import { FailoverModule } from '../failover/failover.module.js';
import { LeadershipModule } from '../leadership/leadership.module.js';
import { TopologyModule } from '../topology/topology.module.js';
import { OverviewHistory } from './overview-history.service.js';
import { OverviewController } from './overview.controller.js';
import { OverviewService } from './overview.service.js';

/** `GET /overview`: every cluster's health label for the console, read from the other modules' memory. */
@Module({
  imports: [AuditModule, DetectionModule, FailoverModule, LeadershipModule, TopologyModule],
  providers: [OverviewService, OverviewHistory],
  controllers: [OverviewController],
})
export class OverviewModule {}
