import { Check, Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../database/transformers.js';

/** A lease held by one controller replica until `expires_at` (database clock); `term` grows with every new holder. */
@Entity({ name: 'controller_leases' })
@Check('chk_controller_leases_term', `"term" >= 1`)
export class ControllerLeaseEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_controller_leases' })
  scope: string;

  @Column({ type: 'text' })
  holder: string;

  @Column({ type: 'bigint', transformer: bigintNumber })
  term: number;

  @Column({ name: 'acquired_at', type: 'timestamptz' })
  acquiredAt: Date;

  @Column({ name: 'renewed_at', type: 'timestamptz' })
  renewedAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}
