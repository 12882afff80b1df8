import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { ClusterEntity } from '../topology/cluster.entity.js';

/**
 * An HTTP endpoint that receives events as signed POSTs. Scoped to one cluster or global (`clusterId`
 * null); `types` null means every type. It receives only events after `startAfterEventId`, the end of
 * the log when it was created.
 */
@Entity({ name: 'webhooks' })
@Index('ix_webhooks_cluster', ['clusterId'])
@Check('chk_webhooks_url', `"url" ~ '^https?://'`)
export class WebhookEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_webhooks' })
  id: string;

  @Column({ type: 'text' })
  url: string;

  @Column({ name: 'cluster_id', type: 'uuid', nullable: true })
  clusterId: string | null;

  @ManyToOne(() => ClusterEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'cluster_id', foreignKeyConstraintName: 'fk_webhooks_cluster' })
  cluster?: ClusterEntity | null;

  @Column({ type: 'text', array: true, nullable: true })
  types: string[] | null;

  /** The signing secret, AES-256-GCM sealed (see `SecretBox`): it must be read back to sign. */
  @Column({ name: 'secret_sealed', type: 'text' })
  secretSealed: string;

  @Column({ name: 'start_after_event_id', type: 'bigint' })
  startAfterEventId: string;

  @Column({ name: 'created_by', type: 'text' })
  createdBy: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
