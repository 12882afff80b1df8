import type { MigrationInterface, QueryRunner } from 'typeorm';

/** API tokens may expire: `expires_at` (null: never). */
export class TokenExpiry1764547200000 implements MigrationInterface {
  name = 'TokenExpiry1764547200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "api_tokens" ADD "expires_at" timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "api_tokens" DROP COLUMN "expires_at"`);
  }
}
