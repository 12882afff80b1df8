import { Column, Entity, OneToMany, PrimaryGeneratedColumn } from 'typeorm';
import { bigintNumber } from '../database/transformers.js';
import { FailoverStepEntity } from './failover-step.entity.js';

export const FAILOVER_TRIGGERS = ['auto', 'manual', 'switchover'] as const;
export const FAILOVER_OUTCOMES = ['running', 'succeeded', 'failed', 'aborted'] as const;

/**
 * One failover or switchover. Never deleted (the database refuses): the node references are kept as
 * addresses so the record stays readable after topology changes.
 */
@Entity({ name: 'failovers' })
export class FailoverEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'cluster_id', type: 'uuid', nullable: true })
  clusterId: string | null;

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
