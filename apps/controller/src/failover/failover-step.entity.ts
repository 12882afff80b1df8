import { Check, Column, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import type { FailoverEntity } from './failover.entity.js';

/** One timestamped step of a failover, in order (`seq`). */
@Entity({ name: 'failover_steps' })
@Unique('uq_failover_steps_seq', ['failoverId', 'seq'])
@Check('chk_failover_steps_status', `"status" IN ('started', 'succeeded', 'failed', 'skipped')`)
export class FailoverStepEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ name: 'failover_id', type: 'uuid' })
  failoverId: string;

  @ManyToOne('FailoverEntity', 'steps', { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'failover_id', foreignKeyConstraintName: 'fk_failover_steps_failover' })
  failover?: FailoverEntity;

  @Column({ type: 'integer' })
  seq: number;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  status: 'started' | 'succeeded' | 'failed' | 'skipped';

  @Column({ type: 'timestamptz' })
  at: Date;

  @Column({ type: 'jsonb' })
  detail: Record<string, unknown>;
}
