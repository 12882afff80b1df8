import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `NOTIFY vigil_topology` names the cluster a change touched (`cluster:<id>`), so a controller replica
 * reloads that cluster alone instead of the whole topology: creating 1,000 clusters one by one no longer
 * costs 1,000 full reloads on every replica. Rows of `clusters` and `nodes` notify with the cluster's id
 * (both the old and the new one when a row moves); identical payloads in one transaction are sent once
 * by PostgreSQL. TRUNCATE still sends the table's name (a full reload), as do agents' changes.
 */
export class TopologyNotifyRows1764892800000 implements MigrationInterface {
  name = 'TopologyNotifyRows1764892800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION "vigil_notify_topology_row"() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        old_id text;
        new_id text;
      BEGIN
        -- TG_ARGV[0] names the column holding the cluster's id ("id" on clusters, "cluster_id" on nodes).
        IF TG_OP <> 'INSERT' THEN
          old_id := to_jsonb(OLD) ->> TG_ARGV[0];
          PERFORM pg_notify('vigil_topology', 'cluster:' || old_id);
        END IF;
        IF TG_OP <> 'DELETE' THEN
          new_id := to_jsonb(NEW) ->> TG_ARGV[0];
          IF new_id IS DISTINCT FROM old_id THEN PERFORM pg_notify('vigil_topology', 'cluster:' || new_id); END IF;
        END IF;
        RETURN NULL;
      END $$`);
    for (const [table, column] of [
      ['clusters', 'id'],
      ['nodes', 'cluster_id'],
    ]) {
      await q.query(`DROP TRIGGER "trg_${table}_notify" ON "${table}"`);
      await q.query(
        `CREATE TRIGGER "trg_${table}_notify" AFTER INSERT OR UPDATE OR DELETE ON "${table}" FOR EACH ROW EXECUTE FUNCTION "vigil_notify_topology_row"('${column}')`,
      );
      await q.query(`CREATE TRIGGER "trg_${table}_truncate_notify" AFTER TRUNCATE ON "${table}" FOR EACH STATEMENT EXECUTE FUNCTION "vigil_notify_topology"()`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['clusters', 'nodes']) {
      await q.query(`DROP TRIGGER "trg_${table}_truncate_notify" ON "${table}"`);
      await q.query(`DROP TRIGGER "trg_${table}_notify" ON "${table}"`);
      await q.query(
        `CREATE TRIGGER "trg_${table}_notify" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "${table}" FOR EACH STATEMENT EXECUTE FUNCTION "vigil_notify_topology"()`,
      );
    }
    await q.query(`DROP FUNCTION "vigil_notify_topology_row"()`);
  }
}
