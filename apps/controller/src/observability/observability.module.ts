import { Module } from '@nestjs/common';
import { HealthController } from './health.controller.js';
import { MetricsService } from './metrics.service.js';

@Module({
  providers: [MetricsService],
  controllers: [HealthController],
  exports: [MetricsService],
})
export class ObservabilityModule {}
