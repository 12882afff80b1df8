import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Answers to operator requests sent with an `Idempotency-Key`, so a retried call does not act twice. */
export class IdempotencyKeys1764115200000 implements MigrationInterface {
  name = 'IdempotencyKeys1764115200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "idempotency_keys" (
        "token_id" uuid NOT NULL,
        "key" text NOT NULL,
        "method" text NOT NULL,
        "path" text NOT NULL,
        "request_hash" text NOT NULL,
        "status" integer,
        "response" jsonb,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_idempotency_keys" PRIMARY KEY ("token_id", "key")
      )`);
    await q.query(`CREATE INDEX "ix_idempotency_keys_created" ON "idempotency_keys" ("created_at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "idempotency_keys"`);
  }
}
