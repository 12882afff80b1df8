import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { LeadershipModule } from '../leadership/leadership.module.js';
import { ObservabilityModule } from '../observability/observability.module.js';
import { LogRetention } from './log-retention.service.js';
import { EventStreamController } from './event-stream.controller.js';
import { EventStreamService } from './event-stream.service.js';
import { WebhookDispatcher } from './webhook-dispatcher.service.js';
import { WebhookSender } from './webhook-sender.service.js';
import { WebhookProcessor } from './webhook.processor.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhooksService } from './webhooks.service.js';

/**
 * The event log pushed out: the server-sent event stream (any replica, from `EventFeed`) and webhooks
 * (enqueued by the leader from a cursor in PostgreSQL, delivered through BullMQ by any replica).
 */
@Module({
  imports: [AuditModule, LeadershipModule, ObservabilityModule],
  providers: [EventStreamService, WebhooksService, WebhookDispatcher, WebhookSender, WebhookProcessor, LogRetention],
  controllers: [EventStreamController, WebhooksController],
  exports: [WebhooksService],
})
export class EventsOutModule {}
