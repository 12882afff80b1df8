import { bigintNumber } from '../database/transformers.js';
import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import type { ClusterEntity } from './cluster.entity.js';

export const NODE_ROLES = ['master', 'replica', 'unknown'] as const;
export type NodeRole = (typeof NODE_ROLES)[number];

/** One redis-server of a cluster. `role` is the role as last decided by the controller. */
@Entity({ name: 'nodes' })
@Unique('uq_nodes_address', ['host', 'port'])
@Index('ix_nodes_cluster', ['clusterId'])
@Check('chk_nodes_port', `"port" BETWEEN 1 AND 65535`)
@Check('chk_nodes_role', `"role" IN ('master', 'replica', 'unknown')`)
@Check('chk_nodes_priority', `"priority" >= 0`)
@Check('chk_nodes_host', `char_length("host") BETWEEN 1 AND 253`)
export class NodeEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'cluster_id', type: 'uuid' })
  clusterId: string;

  @ManyToOne('ClusterEntity', 'nodes', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'cluster_id', foreignKeyConstraintName: 'fk_nodes_cluster' })
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

  /** The cluster epoch `role` was written under; the database refuses a role write older than the cluster's epoch. */
  @Column({ name: 'role_epoch', type: 'bigint', default: 0, transformer: bigintNumber })
  roleEpoch: number;
}
