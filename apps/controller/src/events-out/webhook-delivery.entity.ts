import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { WebhookEntity } from './webhook.entity.js';

export const DELIVERY_OUTCOMES = ['delivered', 'retrying', 'failed'] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

/** One attempt to deliver one event to one webhook. */
@Entity({ name: 'webhook_deliveries' })
@Index('ix_webhook_deliveries_webhook', ['webhookId', 'id'])
@Index('ix_webhook_deliveries_at', ['at'])
@Check('chk_webhook_deliveries_outcome', `"outcome" IN ('delivered', 'retrying', 'failed')`)
@Check('chk_webhook_deliveries_attempt', `"attempt" >= 1`)
export class WebhookDeliveryEntity {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'pk_webhook_deliveries' })
  id: string;

  @Column({ name: 'webhook_id', type: 'uuid' })
  webhookId: string;

  @ManyToOne(() => WebhookEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'webhook_id', foreignKeyConstraintName: 'fk_webhook_deliveries_webhook' })
  webhook?: WebhookEntity;

  @Column({ name: 'event_id', type: 'bigint' })
  eventId: string;

  /** `X-Vigil-Delivery`: the same for every attempt of one event to one webhook. */
  @Column({ name: 'delivery_id', type: 'uuid' })
  deliveryId: string;

  @Column({ type: 'integer' })
  attempt: number;

  @Column({ name: 'status_code', type: 'integer', nullable: true })
  statusCode: number | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Column({ name: 'duration_ms', type: 'integer' })
  durationMs: number;

  @Column({ type: 'timestamptz' })
  at: Date;

  @Column({ type: 'text' })
  outcome: DeliveryOutcome;
}
