import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Side effects that could not be queued (the job backend did not answer in time): kept here, in the
 * database the control plane needs anyway, and moved to their queue once the backend answers again.
 */
export class JobOutbox1764806400000 implements MigrationInterface {
  name = 'JobOutbox1764806400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "job_outbox" (
        "id" bigserial PRIMARY KEY,
        "queue" text NOT NULL,
        "name" text NOT NULL,
        "data" jsonb NOT NULL,
        "opts" jsonb NOT NULL,
        "deferred_at" timestamptz NOT NULL DEFAULT now(),
        "deferred_by" text NOT NULL,
        "reason" text NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "job_outbox"`);
  }
}
