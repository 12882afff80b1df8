import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The topology model: clusters and their nodes, probe agents, API tokens, failover records with their
 * steps, and the append-only event log. Constraints live here, not only in code.
 */
export class InitialTopology1763769600000 implements MigrationInterface {
  name = 'InitialTopology1763769600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "api_tokens" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "name" text NOT NULL,
        "role" text NOT NULL,
        "lookup" text NOT NULL,
        "secret_hash" text NOT NULL,
        "created_by" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "last_used_at" timestamptz,
        "revoked_at" timestamptz,
        CONSTRAINT "pk_api_tokens" PRIMARY KEY ("id"),
        CONSTRAINT "uq_api_tokens_name" UNIQUE ("name"),
        CONSTRAINT "uq_api_tokens_lookup" UNIQUE ("lookup"),
        CONSTRAINT "chk_api_tokens_role" CHECK ("role" IN ('viewer', 'operator', 'admin', 'agent')),
        CONSTRAINT "chk_api_tokens_name" CHECK (char_length("name") BETWEEN 1 AND 100)
      )`);

    await q.query(`
      CREATE TABLE "clusters" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "name" text NOT NULL,
        "quorum" integer NOT NULL,
        "down_after_ms" integer NOT NULL,
        "failover_timeout_ms" integer NOT NULL,
        "cooldown_ms" integer NOT NULL,
        "auto_failover" boolean NOT NULL,
        "maintenance_until" timestamptz,
        "min_replicas_to_write" integer NOT NULL,
        "min_replicas_max_lag_s" integer NOT NULL,
        "max_replica_lag_bytes" bigint NOT NULL,
        "redis_username" text,
        "redis_password_sealed" text,
        "redis_tls" boolean NOT NULL,
        "dns_names" text array NOT NULL,
        "epoch" bigint NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_clusters" PRIMARY KEY ("id"),
        CONSTRAINT "uq_clusters_name" UNIQUE ("name"),
        CONSTRAINT "chk_clusters_name" CHECK ("name" ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
        CONSTRAINT "chk_clusters_quorum" CHECK ("quorum" >= 1),
        CONSTRAINT "chk_clusters_down_after" CHECK ("down_after_ms" >= 100),
        CONSTRAINT "chk_clusters_failover_timeout" CHECK ("failover_timeout_ms" >= 1000),
        CONSTRAINT "chk_clusters_cooldown" CHECK ("cooldown_ms" >= 0),
        CONSTRAINT "chk_clusters_write_safety" CHECK ("min_replicas_to_write" >= 0 AND "min_replicas_max_lag_s" >= 0),
        CONSTRAINT "chk_clusters_max_lag" CHECK ("max_replica_lag_bytes" >= 0),
        CONSTRAINT "chk_clusters_epoch" CHECK ("epoch" >= 0)
      )`);

    await q.query(`
      CREATE TABLE "nodes" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "cluster_id" uuid NOT NULL,
        "host" text NOT NULL,
        "port" integer NOT NULL,
        "role" text NOT NULL,
        "priority" integer NOT NULL,
        "zone" text,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "role_checked_at" timestamptz,
        CONSTRAINT "pk_nodes" PRIMARY KEY ("id"),
        CONSTRAINT "uq_nodes_address" UNIQUE ("host", "port"),
        CONSTRAINT "chk_nodes_port" CHECK ("port" BETWEEN 1 AND 65535),
        CONSTRAINT "chk_nodes_role" CHECK ("role" IN ('master', 'replica', 'unknown')),
        CONSTRAINT "chk_nodes_priority" CHECK ("priority" >= 0),
        CONSTRAINT "chk_nodes_host" CHECK (char_length("host") BETWEEN 1 AND 253),
        CONSTRAINT "fk_nodes_cluster" FOREIGN KEY ("cluster_id") REFERENCES "clusters" ("id") ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX "ix_nodes_cluster" ON "nodes" ("cluster_id")`);

    await q.query(`
      CREATE TABLE "agents" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "name" text NOT NULL,
        "zone" text NOT NULL,
        "token_id" uuid NOT NULL,
        "version" text NOT NULL,
        "watch_clusters" text array,
        "registered_at" timestamptz NOT NULL DEFAULT now(),
        "last_seen_at" timestamptz NOT NULL,
        "started_at" timestamptz,
        CONSTRAINT "pk_agents" PRIMARY KEY ("id"),
        CONSTRAINT "uq_agents_name" UNIQUE ("name"),
        CONSTRAINT "chk_agents_name" CHECK ("name" ~ '^[A-Za-z0-9._-]{1,64}$'),
        CONSTRAINT "fk_agents_token" FOREIGN KEY ("token_id") REFERENCES "api_tokens" ("id") ON DELETE RESTRICT
      )`);

    await q.query(`
      CREATE TABLE "failovers" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "cluster_id" uuid,
        "cluster_name" text NOT NULL,
        "trigger" text NOT NULL,
        "epoch" bigint NOT NULL,
        "from_address" text,
        "to_address" text,
        "outcome" text NOT NULL,
        "error" text,
        "actor" text NOT NULL,
        "started_at" timestamptz NOT NULL,
        "finished_at" timestamptz,
        CONSTRAINT "pk_failovers" PRIMARY KEY ("id"),
        CONSTRAINT "uq_failovers_cluster_epoch" UNIQUE ("cluster_id", "epoch"),
        CONSTRAINT "chk_failovers_trigger" CHECK ("trigger" IN ('auto', 'manual', 'switchover')),
        CONSTRAINT "chk_failovers_outcome" CHECK ("outcome" IN ('running', 'succeeded', 'failed', 'aborted')),
        CONSTRAINT "fk_failovers_cluster" FOREIGN KEY ("cluster_id") REFERENCES "clusters" ("id") ON DELETE SET NULL
      )`);
    await q.query(`CREATE INDEX "ix_failovers_cluster_started" ON "failovers" ("cluster_name", "started_at")`);

    await q.query(`
      CREATE TABLE "failover_steps" (
        "id" bigint GENERATED BY DEFAULT AS IDENTITY,
        "failover_id" uuid NOT NULL,
        "seq" integer NOT NULL,
        "name" text NOT NULL,
        "status" text NOT NULL,
        "at" timestamptz NOT NULL,
        "detail" jsonb NOT NULL,
        CONSTRAINT "pk_failover_steps" PRIMARY KEY ("id"),
        CONSTRAINT "uq_failover_steps_seq" UNIQUE ("failover_id", "seq"),
        CONSTRAINT "chk_failover_steps_status" CHECK ("status" IN ('started', 'succeeded', 'failed', 'skipped')),
        CONSTRAINT "fk_failover_steps_failover" FOREIGN KEY ("failover_id") REFERENCES "failovers" ("id") ON DELETE RESTRICT
      )`);

    await q.query(`
      CREATE TABLE "events" (
        "id" bigint GENERATED BY DEFAULT AS IDENTITY,
        "at" timestamptz NOT NULL DEFAULT now(),
        "type" text NOT NULL,
        "cluster_id" uuid,
        "cluster_name" text,
        "actor" text NOT NULL,
        "data" jsonb NOT NULL,
        CONSTRAINT "pk_events" PRIMARY KEY ("id"),
        CONSTRAINT "chk_events_type" CHECK ("type" ~ '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$')
      )`);
    await q.query(`CREATE INDEX "ix_events_at" ON "events" ("at")`);
    await q.query(`CREATE INDEX "ix_events_cluster_at" ON "events" ("cluster_name", "at")`);

    // History is append-only: the database itself refuses to rewrite or delete it.
    await q.query(`
      CREATE FUNCTION "vigil_refuse_change"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% on % is not allowed: the table is append-only', TG_OP, TG_TABLE_NAME
          USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`CREATE TRIGGER "trg_events_append_only" BEFORE UPDATE OR DELETE ON "events"
      FOR EACH ROW EXECUTE FUNCTION "vigil_refuse_change"()`);
    await q.query(`CREATE TRIGGER "trg_failovers_no_delete" BEFORE DELETE ON "failovers"
      FOR EACH ROW EXECUTE FUNCTION "vigil_refuse_change"()`);
    await q.query(`CREATE TRIGGER "trg_failover_steps_append_only" BEFORE UPDATE OR DELETE ON "failover_steps"
      FOR EACH ROW EXECUTE FUNCTION "vigil_refuse_change"()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "events"`);
    await q.query(`DROP TABLE "failover_steps"`);
    await q.query(`DROP TABLE "failovers"`);
    await q.query(`DROP TABLE "agents"`);
    await q.query(`DROP TABLE "nodes"`);
    await q.query(`DROP TABLE "clusters"`);
    await q.query(`DROP TABLE "api_tokens"`);
    await q.query(`DROP FUNCTION "vigil_refuse_change"()`);
  }
}
