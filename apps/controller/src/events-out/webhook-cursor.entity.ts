import { Check, Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The one row saying how far the leader has turned events into webhook jobs. Kept in PostgreSQL so a
 * new leader carries on where the last one stopped.
 */
@Entity({ name: 'webhook_cursor' })
@Check('chk_webhook_cursor_singleton', `"singleton"`)
export class WebhookCursorEntity {
  @PrimaryColumn({ type: 'boolean', default: true, primaryKeyConstraintName: 'pk_webhook_cursor' })
  singleton: boolean;

  @Column({ name: 'last_event_id', type: 'bigint' })
  lastEventId: string;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
