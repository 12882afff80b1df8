import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { DetectionModule } from '../detection/detection.module.js';
import { ObservabilityModule } from '../observability/observability.module.js';
import { TopologyModule } from '../topology/topology.module.js';
import { DiscoveryController } from './discovery.controller.js';
import { FailsafeService } from './failsafe.service.js';
import { MasterDirectory } from './master-directory.service.js';
import { MasterLookup } from './master-lookup.service.js';

/**
 * Where the master is: the in-memory directory every publisher reads, the failsafe that decides what may
 * still be published while PostgreSQL is unreachable, and the REST lookup and watch.
 */
@Module({
  imports: [AuditModule, DetectionModule, ObservabilityModule, TopologyModule],
  providers: [MasterDirectory, FailsafeService, MasterLookup],
  controllers: [DiscoveryController],
  exports: [MasterDirectory, FailsafeService, MasterLookup],
})
export class DiscoveryModule {}
