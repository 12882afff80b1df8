import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The event log stays append-only (no UPDATE, no DELETE) except for retention: a DELETE is allowed in a
 * transaction that declares itself the pruning one (`SET LOCAL vigil.pruning = 'on'`, which only the
 * leader's `LogRetention` does). Nothing rewrites an event; old ones may be dropped whole.
 */
export class EventRetention1764979200000 implements MigrationInterface {
  name = 'EventRetention1764979200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION "vigil_events_guard"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' AND current_setting('vigil.pruning', true) = 'on' THEN
          RETURN OLD;
        END IF;
        RAISE EXCEPTION '% on % is not allowed: the table is append-only', TG_OP, TG_TABLE_NAME
          USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`DROP TRIGGER "trg_events_append_only" ON "events"`);
    await q.query(`CREATE TRIGGER "trg_events_append_only" BEFORE UPDATE OR DELETE ON "events"
      FOR EACH ROW EXECUTE FUNCTION "vigil_events_guard"()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER "trg_events_append_only" ON "events"`);
    await q.query(`CREATE TRIGGER "trg_events_append_only" BEFORE UPDATE OR DELETE ON "events"
      FOR EACH ROW EXECUTE FUNCTION "vigil_refuse_change"()`);
    await q.query(`DROP FUNCTION "vigil_events_guard"()`);
  }
}
