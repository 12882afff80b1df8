import { Module } from '@nestjs/common';
import { HealthController } from './health.controller.js';
import { MetricsService } from './metrics.service.js';
import { ShutdownDrain } from './shutdown-drain.service.js';

@Module({
  providers: [MetricsService, ShutdownDrain],
  controllers: [HealthController],
  exports: [MetricsService, ShutdownDrain],
})
export class ObservabilityModule {}
