import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { actorOf, type Principal } from '../auth/principal.js';
import { VigilError } from '../common/errors.js';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/config.js';
import { ClusterEntity } from '../topology/cluster.entity.js';
import { SecretBox } from '../topology/secret-box.js';
import type { CreateWebhookDto } from './dto/webhook.dto.js';
import { WebhookDeliveryEntity } from './webhook-delivery.entity.js';
import { generateWebhookSecret } from './webhook-signature.js';
import { literalTargetRefusal } from './webhook-target.js';
import { WebhookEntity } from './webhook.entity.js';

/** Scheme, host and port: what the event log says about a webhook URL (its path or query may hold a token). */
function targetOf(url: string): string {
  return new URL(url).origin;
}

/** How many of a webhook's latest delivery attempts are looked at for its pending and failed counts. */
export const SUMMARY_WINDOW = 1000;

/** A webhook at a glance (for viewers: its URL cut to scheme, host and port, as events show it). */
export interface WebhookSummary {
  id: string;
  target: string;
  lastDelivery: { at: Date; eventId: string; outcome: string; statusCode: number | null } | null;
  /** Of the events in its latest attempts: given up (no attempt left), and waiting for a retry. */
  failed: number;
  pending: number;
}

/** Webhook endpoints: created, listed and deleted here; each change is an event, committed with it. */
@Injectable()
export class WebhooksService {
  private readonly secrets: SecretBox;
  private readonly allowPrivate: boolean;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly audit: AuditService,
    @Inject(CONTROLLER_CONFIG) config: ControllerConfig,
  ) {
    this.secrets = new SecretBox(config.secretKey, config.secretKeysOld);
    this.allowPrivate = config.webhookAllowPrivate;
  }

  /**
   * Creates a webhook that receives the events committed after it (not the history). Its own
   * `webhook.created` event is written first, so the new webhook starts after it.
   */
  async create(input: CreateWebhookDto, by: Principal): Promise<{ webhook: WebhookEntity; secret: string }> {
    if (!this.allowPrivate) {
      const refusal = literalTargetRefusal(input.url);
      if (refusal) throw VigilError.validation([{ field: 'url', reason: `${refusal}: private targets need WEBHOOK_ALLOW_PRIVATE=true` }]);
    }
    const secret = input.secret ?? generateWebhookSecret();
    const webhook = await this.db.transaction(async (em) => {
      let cluster: ClusterEntity | null = null;
      if (input.cluster) {
        cluster = await em.findOne(ClusterEntity, { where: { name: input.cluster }, lock: { mode: 'pessimistic_read' } });
        if (!cluster) throw VigilError.validation([{ field: 'cluster', reason: `no cluster named ${input.cluster}` }]);
      }
      const id = randomUUID();
      await this.audit.record(
        {
          type: 'webhook.created',
          actor: actorOf(by),
          cluster: cluster ? { id: cluster.id, name: cluster.name } : undefined,
          data: { webhookId: id, target: targetOf(input.url), types: input.types ?? null },
        },
        em,
      );
      const [end] = await em.query<{ id: string }[]>(`SELECT coalesce(max(id), 0)::text AS id FROM events`);
      await em.insert(WebhookEntity, {
        id,
        url: input.url,
        clusterId: cluster?.id ?? null,
        types: input.types ?? null,
        secretSealed: this.secrets.seal(secret),
        startAfterEventId: end!.id,
        createdBy: actorOf(by),
      });
      return this.load(em, id);
    });
    return { webhook, secret };
  }

  list(): Promise<WebhookEntity[]> {
    return this.db.getRepository(WebhookEntity).find({ relations: { cluster: true }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /**
   * The webhooks that receive a cluster's events (its own and the global ones), each with its latest
   * delivery attempt and, among its latest ${SUMMARY_WINDOW} attempts, the events given up and those
   * waiting for a retry (by the newest attempt of each).
   */
  async summaries(clusterId: string): Promise<WebhookSummary[]> {
    const rows = await this.db.query<
      {
        id: string;
        url: string;
        at: Date | null;
        event_id: string | null;
        outcome: string | null;
        status_code: number | null;
        failed: number;
        pending: number;
      }[]
    >(
      `SELECT w.id, w.url, d.at, d.event_id::text AS event_id, d.outcome, d.status_code, c.failed, c.pending
         FROM webhooks w
         LEFT JOIN LATERAL (
           SELECT at, event_id, outcome, status_code FROM webhook_deliveries WHERE webhook_id = w.id ORDER BY id DESC LIMIT 1
         ) d ON true
         CROSS JOIN LATERAL (
           SELECT count(*) FILTER (WHERE outcome = 'failed')::int AS failed, count(*) FILTER (WHERE outcome = 'retrying')::int AS pending
             FROM (SELECT DISTINCT ON (delivery_id) outcome
                     FROM (SELECT delivery_id, outcome, id FROM webhook_deliveries WHERE webhook_id = w.id ORDER BY id DESC LIMIT ${SUMMARY_WINDOW}) recent
                    ORDER BY delivery_id, id DESC) latest
         ) c
        WHERE w.cluster_id = $1 OR w.cluster_id IS NULL
        ORDER BY w.created_at, w.id`,
      [clusterId],
    );
    return rows.map((r) => ({
      id: r.id,
      target: targetOf(r.url),
      lastDelivery: r.at && r.event_id && r.outcome ? { at: r.at, eventId: r.event_id, outcome: r.outcome, statusCode: r.status_code } : null,
      failed: r.failed,
      pending: r.pending,
    }));
  }

  get(id: string): Promise<WebhookEntity> {
    return this.load(this.db.manager, id);
  }

  async remove(id: string, by: Principal): Promise<void> {
    await this.db.transaction(async (em) => {
      const hook = await this.load(em, id);
      await em.delete(WebhookEntity, { id });
      await this.audit.record(
        {
          type: 'webhook.deleted',
          actor: actorOf(by),
          cluster: hook.cluster ? { id: hook.cluster.id, name: hook.cluster.name } : undefined,
          data: { webhookId: id, target: targetOf(hook.url) },
        },
        em,
      );
    });
  }

  /** A webhook's delivery attempts, newest first, one page plus the cursor of the next. */
  async deliveries(id: string, before: string | undefined, limit: number): Promise<{ items: WebhookDeliveryEntity[]; next: string | null }> {
    await this.load(this.db.manager, id);
    const qb = this.db
      .getRepository(WebhookDeliveryEntity)
      .createQueryBuilder('d')
      .where('d.webhook_id = :id', { id })
      .orderBy('d.id', 'DESC')
      .limit(limit + 1);
    if (before !== undefined) qb.andWhere('d.id < :before', { before });
    const rows = await qb.getMany();
    const more = rows.length > limit;
    const items = more ? rows.slice(0, limit) : rows;
    return { items, next: more ? items[items.length - 1]!.id : null };
  }

  private async load(em: EntityManager, id: string): Promise<WebhookEntity> {
    const hook = await em.findOne(WebhookEntity, { where: { id }, relations: { cluster: true } });
    if (!hook) throw VigilError.notFound(`webhook ${id}`);
    return hook;
  }
}
