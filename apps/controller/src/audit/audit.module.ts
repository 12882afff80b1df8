import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditService } from './audit.service.js';
import { EventEntity } from './event.entity.js';
import { EventsController } from './events.controller.js';

@Module({
  imports: [TypeOrmModule.forFeature([EventEntity])],
  providers: [AuditService],
  controllers: [EventsController],
  exports: [AuditService],
})
export class AuditModule {}
