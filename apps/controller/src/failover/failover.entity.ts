import { Check, Column, Entity, Index, JoinColumn, ManyToOne, OneToMany, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { ClusterEntity } from '../topology/cluster.entity.js';
import { bigintNumber } from '../database/transformers.js';
import { FailoverStepEntity } from './failover-step.entity.js';

export const FAILOVER_TRIGGERS = ['auto', 'manual', 'switchover'] as const;
export const FAILOVER_OUTCOMES = ['running', 'succeeded', 'failed', 'aborted'] as const;
/** The persisted phase of the failover state machine (see failover-planner.ts). */
export const FAILOVER_STATES = ['decided', 'fencing', 'promoting', 'recorded', 'repointing', 'done', 'failed', 'aborted'] as const;
export type FailoverPhase = (typeof FAILOVER_STATES)[number];

/**
 * One failover or switchover. Never deleted (the database refuses): the node references are kept as
 * addresses so the record stays readable after topology changes.
 */
@Entity({ name: 'failovers' })
@Unique('uq_failovers_cluster_epoch', ['clusterId', 'epoch'])
@Index('ix_failovers_cluster_started', ['clusterName', 'startedAt'])
@Check('chk_failovers_trigger', `"trigger" IN ('auto', 'manual', 'switchover')`)
@Check('chk_failovers_outcome', `"outcome" IN ('running', 'succeeded', 'failed', 'aborted')`)
@Check('chk_failovers_state', `"state" IN ('decided', 'fencing', 'promoting', 'recorded', 'repointing', 'done', 'failed', 'aborted')`)
export class FailoverEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'cluster_id', type: 'uuid', nullable: true })
  clusterId: string | null;

  @ManyToOne(() => ClusterEntity, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'cluster_id', foreignKeyConstraintName: 'fk_failovers_cluster' })
  cluster?: ClusterEntity | null;

  @Column({ name: 'cluster_name', type: 'text' })
  clusterName: string;

  @Column({ type: 'text' })
  trigger: (typeof FAILOVER_TRIGGERS)[number];

  @Column({ type: 'bigint', transformer: bigintNumber })
  epoch: number;

  @Column({ name: 'from_address', type: 'text', nullable: true })
  fromAddress: string | null;

  @Column({ name: 'to_address', type: 'text', nullable: true })
  toAddress: string | null;

  @Column({ type: 'text' })
  outcome: (typeof FAILOVER_OUTCOMES)[number];

  @Column({ type: 'text', default: 'decided' })
  state: FailoverPhase;

  /** The leader term that runs it now (a resume by another leader changes it, with the epoch). */
  @Column({ type: 'bigint', nullable: true, transformer: bigintNumber })
  term: number | null;

  /** The node chosen for promotion ("host:port"), with its run id and offset when chosen. */
  @Column({ name: 'target_address', type: 'text', nullable: true })
  targetAddress: string | null;

  @Column({ name: 'target_run_id', type: 'text', nullable: true })
  targetRunId: string | null;

  @Column({ name: 'target_offset', type: 'bigint', nullable: true, transformer: bigintNumber })
  targetOffset: number | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Column({ type: 'text' })
  actor: string;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;

  @OneToMany(() => FailoverStepEntity, (step) => step.failover)
  steps: FailoverStepEntity[];
}
