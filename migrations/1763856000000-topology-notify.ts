import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every committed change to clusters or nodes sends `NOTIFY vigil_topology`, so each controller
 * replica reloads its in-memory topology at once (agents' assignments, detection, discovery reads).
 */
export class TopologyNotify1763856000000 implements MigrationInterface {
  name = 'TopologyNotify1763856000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION "vigil_notify_topology"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('vigil_topology', TG_TABLE_NAME);
        RETURN NULL;
      END $$`);
    await q.query(
      `CREATE TRIGGER "trg_clusters_notify" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "clusters" FOR EACH STATEMENT EXECUTE FUNCTION "vigil_notify_topology"()`,
    );
    await q.query(
      `CREATE TRIGGER "trg_nodes_notify" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "nodes" FOR EACH STATEMENT EXECUTE FUNCTION "vigil_notify_topology"()`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER "trg_nodes_notify" ON "nodes"`);
    await q.query(`DROP TRIGGER "trg_clusters_notify" ON "clusters"`);
    await q.query(`DROP FUNCTION "vigil_notify_topology"()`);
  }
}
