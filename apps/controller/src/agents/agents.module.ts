import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module.js';
import { AgentEntity } from './agent.entity.js';
import { AgentsController } from './agents.controller.js';
import { AgentsService } from './agents.service.js';
import { DetectionModule } from '../detection/detection.module.js';
import { TopologyModule } from '../topology/topology.module.js';

@Module({
  imports: [TypeOrmModule.forFeature([AgentEntity]), AuditModule, DetectionModule, TopologyModule],
  providers: [AgentsService],
  controllers: [AgentsController],
  exports: [AgentsService],
})
export class AgentsModule {}
