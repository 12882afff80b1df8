import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { type DeliverWebhookJob, QUEUES, WEBHOOK_JOBS } from '../jobs/queues.js';
import { WebhookSender } from './webhook-sender.service.js';

/**
 * Runs the webhook queue on every replica (a delivery needs no leadership). Several at once, so one
 * slow receiver does not hold up the others; deliveries are therefore not ordered.
 */
@Processor(QUEUES.webhooks, { concurrency: 8 })
export class WebhookProcessor extends WorkerHost {
  constructor(private readonly sender: WebhookSender) {
    super();
  }

  async process(job: Job<DeliverWebhookJob>): Promise<string> {
    switch (job.name) {
      case WEBHOOK_JOBS.deliver: {
        const attempt = job.attemptsMade + 1;
        return this.sender.deliver(job.data, attempt, attempt >= (job.opts.attempts ?? 1));
      }
      default:
        throw new Error(`unknown job ${job.name} on ${QUEUES.webhooks}`);
    }
  }
}
