import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Counter } from 'prom-client';
import { DataSource } from 'typeorm';
import { type EventRow, SELECT_EVENTS, toFeedEvent } from '../audit/event-feed.service.js';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/config.js';
import type { DeliverWebhookJob } from '../jobs/queues.js';
import { MetricsService } from '../observability/metrics.service.js';
import { SecretBox } from '../topology/secret-box.js';
import { type DeliveryOutcome, WebhookDeliveryEntity } from './webhook-delivery.entity.js';
import { postWebhook, TargetRefusedError } from './webhook-post.js';
import { webhookHeaders } from './webhook-signature.js';

/** A receiver that has not answered by then counts as a failed attempt. */
export const WEBHOOK_TIMEOUT_MS = 5000;

/** Thrown for a failed attempt, so BullMQ retries it with backoff. */
export class DeliveryFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeliveryFailedError';
  }
}

/**
 * One delivery attempt: POSTs the event, signed, to the webhook and writes the attempt to
 * `webhook_deliveries`. A 2xx answer is a delivery; anything else (another status, a redirect, a
 * network error, no answer within 5 s) throws so the job is retried. Runs on any replica.
 */
@Injectable()
export class WebhookSender {
  private readonly secrets: SecretBox;
  private readonly attempts: Counter<'outcome'>;
  private readonly allowPrivate: boolean;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    metrics: MetricsService,
    @Inject(CONTROLLER_CONFIG) config: ControllerConfig,
  ) {
    this.secrets = new SecretBox(config.secretKey, config.secretKeysOld);
    this.allowPrivate = config.webhookAllowPrivate;
    this.attempts = new Counter({
      name: 'vigil_webhook_attempts_total',
      help: 'Webhook delivery attempts by outcome (delivered, retrying, failed = no attempt left)',
      labelNames: ['outcome'] as const,
      registers: [metrics.registry],
    });
  }

  async deliver(job: DeliverWebhookJob, attempt: number, lastAttempt: boolean): Promise<'delivered' | 'webhook deleted'> {
    const [hook] = await this.db.query<{ url: string; secret_sealed: string }[]>(`SELECT url, secret_sealed FROM webhooks WHERE id = $1`, [job.webhookId]);
    if (!hook) return 'webhook deleted';
    const [row] = await this.db.query<EventRow[]>(`${SELECT_EVENTS} WHERE e.id = $1`, [job.eventId]);
    if (!row) throw new Error(`event ${job.eventId} not found`);
    const body = JSON.stringify(toFeedEvent(row));
    const headers = webhookHeaders({
      eventType: row.type,
      eventId: row.id,
      deliveryId: job.deliveryId,
      secret: this.secrets.open(hook.secret_sealed),
      body,
      nowS: Date.now() / 1000,
    });

    const at = new Date();
    const started = performance.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      statusCode = await postWebhook(hook.url, headers, body, { timeoutMs: WEBHOOK_TIMEOUT_MS, allowPrivate: this.allowPrivate });
    } catch (err) {
      error = describeError(err);
    }
    const durationMs = Math.round(performance.now() - started);
    const delivered = statusCode !== null && statusCode >= 200 && statusCode < 300;
    const outcome: DeliveryOutcome = delivered ? 'delivered' : lastAttempt ? 'failed' : 'retrying';
    await this.db.getRepository(WebhookDeliveryEntity).insert({
      webhookId: job.webhookId,
      eventId: job.eventId,
      deliveryId: job.deliveryId,
      attempt,
      statusCode,
      error,
      durationMs,
      at,
      outcome,
    });
    this.attempts.inc({ outcome });
    if (!delivered) throw new DeliveryFailedError(error ?? `the receiver answered ${statusCode}`);
    return 'delivered';
  }
}

function describeError(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `no answer within ${WEBHOOK_TIMEOUT_MS} ms`;
  if (err instanceof TargetRefusedError) return err.message.slice(0, 500);
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return (code ?? (err instanceof Error ? err.message : String(err))).slice(0, 500);
}
