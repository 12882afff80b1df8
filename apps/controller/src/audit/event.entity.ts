import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One entry of the append-only event log. The database refuses UPDATE and DELETE on this table; the
 * cluster is kept by name and id without a foreign key so the history outlives the cluster.
 */
@Entity({ name: 'events' })
@Index('ix_events_at', ['at'])
@Index('ix_events_cluster_at', ['clusterName', 'at'])
@Check('chk_events_type', `"type" ~ '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$'`)
export class EventEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  at: Date;

  @Column({ type: 'text' })
  type: string;

  @Column({ name: 'cluster_id', type: 'uuid', nullable: true })
  clusterId: string | null;

  @Column({ name: 'cluster_name', type: 'text', nullable: true })
  clusterName: string | null;

  /** Who caused it: `token:<name>`, `agent:<name>`, `controller:<name>`. */
  @Column({ type: 'text' })
  actor: string;

  @Column({ type: 'jsonb' })
  data: Record<string, unknown>;
}
