import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** One operator request made with an `Idempotency-Key`: in progress while `status` is null, then its answer. */
@Entity({ name: 'idempotency_keys' })
@Index('ix_idempotency_keys_created', ['createdAt'])
export class IdempotencyKeyEntity {
  @PrimaryColumn({ name: 'token_id', type: 'uuid', primaryKeyConstraintName: 'pk_idempotency_keys' })
  tokenId: string;

  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_idempotency_keys' })
  key: string;

  @Column({ type: 'text' })
  method: string;

  @Column({ type: 'text' })
  path: string;

  @Column({ name: 'request_hash', type: 'text' })
  requestHash: string;

  @Column({ type: 'integer', nullable: true })
  status: number | null;

  @Column({ type: 'jsonb', nullable: true })
  response: unknown;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
