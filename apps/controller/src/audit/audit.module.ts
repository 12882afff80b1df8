import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditService } from './audit.service.js';
import { EventFeed } from './event-feed.service.js';
import { EventEntity } from './event.entity.js';
import { EventsController } from './events.controller.js';

@Module({
  imports: [TypeOrmModule.forFeature([EventEntity])],
  providers: [AuditService, EventFeed],
  controllers: [EventsController],
  exports: [AuditService, EventFeed],
})
export class AuditModule {}
