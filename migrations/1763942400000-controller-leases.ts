import type { MigrationInterface, QueryRunner } from 'typeorm';

/** One row per lease; the `leader` lease elects the controller replica that acts. */
export class ControllerLeases1763942400000 implements MigrationInterface {
  name = 'ControllerLeases1763942400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "controller_leases" (
        "scope" text NOT NULL,
        "holder" text NOT NULL,
        "term" bigint NOT NULL,
        "acquired_at" timestamptz NOT NULL,
        "renewed_at" timestamptz NOT NULL,
        "expires_at" timestamptz NOT NULL,
        CONSTRAINT "pk_controller_leases" PRIMARY KEY ("scope"),
        CONSTRAINT "chk_controller_leases_term" CHECK ("term" >= 1)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "controller_leases"`);
  }
}
