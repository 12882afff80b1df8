import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Epoch fencing in the database itself: a node's role may only be written under the cluster's current
 * epoch (`role_epoch` must not be older), so a controller acting on a superseded epoch (a deposed
 * leader, a role discovery that raced a failover) is refused by Postgres, not by convention.
 */
export class EpochFencing1764028800000 implements MigrationInterface {
  name = 'EpochFencing1764028800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "nodes" ADD "role_epoch" bigint NOT NULL DEFAULT 0`);
    await q.query(`
      CREATE FUNCTION "vigil_fence_node_role"() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE current_epoch bigint;
      BEGIN
        IF NEW.role IS DISTINCT FROM OLD.role OR NEW.role_epoch IS DISTINCT FROM OLD.role_epoch THEN
          SELECT epoch INTO current_epoch FROM clusters WHERE id = NEW.cluster_id;
          IF NEW.role_epoch < current_epoch THEN
            RAISE EXCEPTION 'stale epoch: role of node % written under epoch %, cluster is at %', NEW.id, NEW.role_epoch, current_epoch
              USING ERRCODE = 'VGE01';
          END IF;
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER "trg_nodes_fence_role" BEFORE UPDATE ON "nodes" FOR EACH ROW EXECUTE FUNCTION "vigil_fence_node_role"()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER "trg_nodes_fence_role" ON "nodes"`);
    await q.query(`DROP FUNCTION "vigil_fence_node_role"()`);
    await q.query(`ALTER TABLE "nodes" DROP COLUMN "role_epoch"`);
  }
}
