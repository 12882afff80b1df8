import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The failover as a persisted state machine: its phase, the leader term that runs it and the node it
 * chose (with the run id and offset read when it was chosen, so a resume never adopts a node that
 * restarted empty). Clusters get `require_master_dead_evidence` (on by default): an automatic failover
 * needs the master's own evidence that it is dead, not only the agents' quorum.
 */
export class FailoverState1764460800000 implements MigrationInterface {
  name = 'FailoverState1764460800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "failovers" ADD "state" text NOT NULL DEFAULT 'decided'`);
    await q.query(`
      UPDATE "failovers" SET "state" = CASE "outcome" WHEN 'succeeded' THEN 'done' WHEN 'failed' THEN 'failed'
                                                      WHEN 'aborted' THEN 'aborted' ELSE 'decided' END`);
    await q.query(`
      ALTER TABLE "failovers" ADD CONSTRAINT "chk_failovers_state"
        CHECK ("state" IN ('decided', 'fencing', 'promoting', 'recorded', 'repointing', 'done', 'failed', 'aborted'))`);
    await q.query(`ALTER TABLE "failovers" ADD "term" bigint`);
    await q.query(`ALTER TABLE "failovers" ADD "target_address" text`);
    await q.query(`ALTER TABLE "failovers" ADD "target_run_id" text`);
    await q.query(`ALTER TABLE "failovers" ADD "target_offset" bigint`);
    await q.query(`ALTER TABLE "clusters" ADD "require_master_dead_evidence" boolean NOT NULL DEFAULT true`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "clusters" DROP COLUMN "require_master_dead_evidence"`);
    await q.query(`ALTER TABLE "failovers" DROP COLUMN "target_offset"`);
    await q.query(`ALTER TABLE "failovers" DROP COLUMN "target_run_id"`);
    await q.query(`ALTER TABLE "failovers" DROP COLUMN "target_address"`);
    await q.query(`ALTER TABLE "failovers" DROP COLUMN "term"`);
    await q.query(`ALTER TABLE "failovers" DROP CONSTRAINT "chk_failovers_state"`);
    await q.query(`ALTER TABLE "failovers" DROP COLUMN "state"`);
  }
}
