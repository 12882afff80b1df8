import { ApiTokenEntity } from '../auth/api-token.entity.js';
import { Check, Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** A registered probe agent. Its name is bound to the token that first registered it. */
@Entity({ name: 'agents' })
@Unique('uq_agents_name', ['name'])
@Check('chk_agents_name', `"name" ~ '^[A-Za-z0-9._-]{1,64}$'`)
export class AgentEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  zone: string;

  @Column({ name: 'token_id', type: 'uuid' })
  tokenId: string;

  @ManyToOne(() => ApiTokenEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'token_id', foreignKeyConstraintName: 'fk_agents_token' })
  token?: ApiTokenEntity;

  @Column({ type: 'text' })
  version: string;

  /** Cluster names this agent watches; null = every cluster. */
  @Column({ name: 'watch_clusters', type: 'text', array: true, nullable: true })
  watchClusters: string[] | null;

  @CreateDateColumn({ name: 'registered_at', type: 'timestamptz' })
  registeredAt: Date;

  @Column({ name: 'last_seen_at', type: 'timestamptz' })
  lastSeenAt: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;
}
