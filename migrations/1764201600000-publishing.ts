import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Publishing: `clusters.master_since` (when the current master became master, kept by a trigger on
 * `nodes` whoever writes the role) and `NOTIFY vigil_events` with the id of every new event, so each
 * controller replica streams the log as it grows (SSE, Sentinel pub/sub, webhooks); `controller_peers`,
 * where each running replica announces its Sentinel-compatible endpoint (`SENTINEL sentinels`).
 */
export class Publishing1764201600000 implements MigrationInterface {
  name = 'Publishing1764201600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "clusters" ADD "master_since" timestamptz`);
    await q.query(`ALTER TABLE "clusters" ADD "dns_ttl" integer`);
    await q.query(`ALTER TABLE "clusters" ADD CONSTRAINT "chk_clusters_dns_ttl" CHECK ("dns_ttl" BETWEEN 0 AND 86400)`);
    await q.query(`
      UPDATE "clusters" c SET "master_since" = coalesce(n."role_checked_at", now())
        FROM "nodes" n WHERE n."cluster_id" = c."id" AND n."role" = 'master'`);
    await q.query(`
      CREATE FUNCTION "vigil_master_since"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW."role" = 'master' AND (TG_OP = 'INSERT' OR OLD."role" IS DISTINCT FROM 'master') THEN
          UPDATE "clusters" SET "master_since" = now() WHERE "id" = NEW."cluster_id";
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER "trg_nodes_master_since" AFTER INSERT OR UPDATE OF "role" ON "nodes" FOR EACH ROW EXECUTE FUNCTION "vigil_master_since"()`);
    await q.query(`
      CREATE FUNCTION "vigil_notify_events"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('vigil_events', NEW."id"::text);
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER "trg_events_notify" AFTER INSERT ON "events" FOR EACH ROW EXECUTE FUNCTION "vigil_notify_events"()`);
    await q.query(`
      CREATE TABLE "controller_peers" (
        "identity" text NOT NULL,
        "name" text NOT NULL,
        "sentinel_host" text,
        "sentinel_port" integer,
        "seen_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_controller_peers" PRIMARY KEY ("identity")
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "controller_peers"`);
    await q.query(`DROP TRIGGER "trg_events_notify" ON "events"`);
    await q.query(`DROP FUNCTION "vigil_notify_events"()`);
    await q.query(`DROP TRIGGER "trg_nodes_master_since" ON "nodes"`);
    await q.query(`DROP FUNCTION "vigil_master_since"()`);
    await q.query(`ALTER TABLE "clusters" DROP CONSTRAINT "chk_clusters_dns_ttl"`);
    await q.query(`ALTER TABLE "clusters" DROP COLUMN "dns_ttl"`);
    await q.query(`ALTER TABLE "clusters" DROP COLUMN "master_since"`);
  }
}
