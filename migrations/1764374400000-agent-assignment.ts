import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Registering or removing an agent, or changing what it watches, sends `NOTIFY vigil_topology`: the
 * registered agents are detection's ODOWN denominator, so every controller replica reloads them at once.
 * Heartbeats (`last_seen_at`, several a second across agents) and version stamps must not notify: the
 * update trigger is per row, on the assignment columns only, and fires only when one really changed.
 */
export class AgentAssignment1764374400000 implements MigrationInterface {
  name = 'AgentAssignment1764374400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TRIGGER "trg_agents_notify" AFTER INSERT OR DELETE OR TRUNCATE ON "agents" FOR EACH STATEMENT EXECUTE FUNCTION "vigil_notify_topology"()`,
    );
    await q.query(`
      CREATE TRIGGER "trg_agents_assignment_notify" AFTER UPDATE OF "name", "zone", "watch_clusters" ON "agents" FOR EACH ROW
        WHEN (OLD."name" IS DISTINCT FROM NEW."name" OR OLD."zone" IS DISTINCT FROM NEW."zone" OR OLD."watch_clusters" IS DISTINCT FROM NEW."watch_clusters")
        EXECUTE FUNCTION "vigil_notify_topology"()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER "trg_agents_assignment_notify" ON "agents"`);
    await q.query(`DROP TRIGGER "trg_agents_notify" ON "agents"`);
  }
}
