import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ObservabilityModule } from '../observability/observability.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { ClusterEntity } from './cluster.entity.js';
import { ClustersController } from './clusters.controller.js';
import { NodeEntity } from './node.entity.js';
import { RoleDiscoveryService } from './role-discovery.service.js';
import { TopologyCache } from './topology-cache.service.js';
import { TopologyProcessor } from './topology.processor.js';
import { TopologyService } from './topology.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([ClusterEntity, NodeEntity]), AuditModule, ObservabilityModule],
  providers: [TopologyService, TopologyCache, RoleDiscoveryService, TopologyProcessor],
  controllers: [ClustersController],
  exports: [TopologyService, TopologyCache],
})
export class TopologyModule {}
