import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { ObservabilityModule } from '../observability/observability.module.js';
import { LeadershipController } from './leadership.controller.js';
import { LeadershipService } from './leadership.service.js';

/** Which controller replica acts (a lease in PostgreSQL); the others stand by with the same evidence. */
@Module({
  imports: [AuditModule, ObservabilityModule],
  providers: [LeadershipService],
  controllers: [LeadershipController],
  exports: [LeadershipService],
})
export class LeadershipModule {}
