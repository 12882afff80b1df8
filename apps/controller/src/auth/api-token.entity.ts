import { Check, Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';
import type { TokenRole } from '../../../../libs/contracts/src/index.js';

/**
 * A bearer token. The secret is never stored: `secretHash` is scrypt(secret, salt) and `lookup` is
 * the public part of the token used to find the row (`vgl_<lookup>_<secret>`).
 */
@Entity({ name: 'api_tokens' })
@Unique('uq_api_tokens_name', ['name'])
@Unique('uq_api_tokens_lookup', ['lookup'])
@Check('chk_api_tokens_role', `"role" IN ('viewer', 'operator', 'admin', 'agent')`)
@Check('chk_api_tokens_name', `char_length("name") BETWEEN 1 AND 100`)
export class ApiTokenEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  role: TokenRole;

  @Column({ type: 'text' })
  lookup: string;

  @Column({ name: 'secret_hash', type: 'text' })
  secretHash: string;

  @Column({ name: 'created_by', type: 'text' })
  createdBy: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  /** After this instant the token is refused (null: never). */
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;
}
