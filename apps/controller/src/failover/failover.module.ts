import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { DetectionModule } from '../detection/detection.module.js';
import { LeadershipModule } from '../leadership/leadership.module.js';
import { TopologyModule } from '../topology/topology.module.js';
import { ClusterDecisions } from './cluster-decisions.js';
import { ClusterObserver } from './cluster-observer.js';
import { DecisionNowService } from './decision-now.service.js';
import { FailoverRuns } from './failover-runs.js';
import { FailoverStore } from './failover-store.js';
import { FailoverTriggers } from './failover-triggers.service.js';
import { FailoverProcessor } from './failover.processor.js';
import { FailoverService } from './failover.service.js';
import { MasterChanges } from './master-changes.js';
import { NodeReconciler } from './node-reconciler.service.js';
import { FailoversController } from './failovers.controller.js';
import { OperatorActionsService } from './operator-actions.service.js';
import { OperatorController } from './operator.controller.js';

/**
 * The failover engine (leader only): triggers (ODOWN, sweep, resumption), the one authority for operator
 * actions, the state machine's runner, node reconciliation; its fenced records and the failover history API.
 */
@Module({
  imports: [AuditModule, DetectionModule, LeadershipModule, TopologyModule],
  providers: [
    FailoverStore,
    ClusterDecisions,
    ClusterObserver,
    MasterChanges,
    FailoverRuns,
    FailoverTriggers,
    FailoverService,
    OperatorActionsService,
    NodeReconciler,
    FailoverProcessor,
    DecisionNowService,
  ],
  controllers: [FailoversController, OperatorController],
  exports: [FailoverService, FailoverStore, MasterChanges, OperatorActionsService, ClusterDecisions],
})
export class FailoverModule {}
