import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import type { ClusterEntity } from './cluster.entity.js';

export const NODE_ROLES = ['master', 'replica', 'unknown'] as const;
export type NodeRole = (typeof NODE_ROLES)[number];

/** One redis-server of a cluster. `role` is the role as last decided by the controller. */
@Entity({ name: 'nodes' })
export class NodeEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'cluster_id', type: 'uuid' })
  clusterId: string;

  @ManyToOne('ClusterEntity', 'nodes', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'cluster_id' })
  cluster?: ClusterEntity;

  @Column({ type: 'text' })
  host: string;

  @Column({ type: 'integer' })
  port: number;

  @Column({ type: 'text' })
  role: NodeRole;

  /** 0 = never promote; otherwise lower is preferred (like replica-priority). */
  @Column({ type: 'integer' })
  priority: number;

  @Column({ type: 'text', nullable: true })
  zone: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'role_checked_at', type: 'timestamptz', nullable: true })
  roleCheckedAt: Date | null;
}
