import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { DetectionModule } from '../detection/detection.module.js';
import { LeadershipModule } from '../leadership/leadership.module.js';
import { TopologyModule } from '../topology/topology.module.js';
import { FailoverStore } from './failover-store.js';
import { FailoverProcessor } from './failover.processor.js';
import { FailoverService } from './failover.service.js';
import { FailoversController } from './failovers.controller.js';
import { OperatorActionsService } from './operator-actions.service.js';
import { OperatorController } from './operator.controller.js';

/** The failover engine (leader only), its fenced records, the one authority for operator actions, and the failover history API. */
@Module({
  imports: [AuditModule, DetectionModule, LeadershipModule, TopologyModule],
  providers: [FailoverStore, FailoverService, FailoverProcessor, OperatorActionsService],
  controllers: [FailoversController, OperatorController],
  exports: [FailoverService, FailoverStore, OperatorActionsService],
})
export class FailoverModule {}
