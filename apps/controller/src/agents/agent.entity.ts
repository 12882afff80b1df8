import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A registered probe agent. Its name is bound to the token that first registered it. */
@Entity({ name: 'agents' })
export class AgentEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  zone: string;

  @Column({ name: 'token_id', type: 'uuid' })
  tokenId: string;

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
