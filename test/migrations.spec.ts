import pg from 'pg';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataSource } from '../apps/controller/src/database/data-source.js';
import { runMigrationsLocked } from '../apps/controller/src/database/migrations-lock.js';
import { MIGRATIONS } from '../migrations/index.js';
import { freshDatabase } from './support/controller.js';

describe('migrations on a real PostgreSQL', () => {
  let url: string;
  let ds: DataSource;
  let client: pg.Client;

  beforeAll(async () => {
    url = await freshDatabase();
    ds = createDataSource(url);
    await ds.initialize();
    client = new pg.Client({ connectionString: url });
    await client.connect();
  });

  afterAll(async () => {
    await client?.end();
    await ds?.destroy();
  });

  it('apply on an empty database, then find nothing left to do', async () => {
    const first = await ds.runMigrations({ transaction: 'each' });
    expect(first.length).toBeGreaterThan(0);
    const tables = await client.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`);
    expect(tables.rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining(['agents', 'api_tokens', 'clusters', 'events', 'failover_steps', 'failovers', 'nodes']),
    );
    expect(await ds.runMigrations({ transaction: 'each' })).toEqual([]);
  });

  it('match the entities: TypeORM would generate no migration', async () => {
    const pending = await ds.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('revert cleanly and apply again', async () => {
    for (let i = 0; i < MIGRATIONS.length; i++) await ds.undoLastMigration({ transaction: 'each' });
    const left = await client.query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'clusters'`);
    expect(left.rows[0].n).toBe(0);
    expect((await ds.runMigrations({ transaction: 'each' })).length).toBeGreaterThan(0);
  });

  it('serialise controllers migrating a fresh database at the same time', async () => {
    const url2 = await freshDatabase();
    const sources = [createDataSource(url2), createDataSource(url2), createDataSource(url2)];
    await Promise.all(sources.map((s) => s.initialize()));
    try {
      const applied = await Promise.all(sources.map((s) => runMigrationsLocked(s)));
      expect(applied.map((a) => a.length).sort()).toEqual([0, 0, MIGRATIONS.length]);
    } finally {
      await Promise.all(sources.map((s) => s.destroy()));
    }
  });

  it('enforce constraints in the database itself', async () => {
    const insertCluster = (name: string, quorum: number) =>
      client.query(
        `INSERT INTO clusters (name, quorum, down_after_ms, failover_timeout_ms, cooldown_ms, auto_failover, min_replicas_to_write,
           min_replicas_max_lag_s, max_replica_lag_bytes, redis_tls, dns_names, epoch)
         VALUES ($1, $2, 5000, 60000, 0, true, 0, 10, 0, false, '{}', 0) RETURNING id`,
        [name, quorum],
      );
    await expect(insertCluster('Bad_Name', 2)).rejects.toThrow(/chk_clusters_name/);
    await expect(insertCluster('ok', 0)).rejects.toThrow(/chk_clusters_quorum/);
    const { rows } = await insertCluster('ok', 2);
    await expect(insertCluster('ok', 2)).rejects.toThrow(/uq_clusters_name/);
    const node = (port: number, host = '10.0.0.1') =>
      client.query(`INSERT INTO nodes (cluster_id, host, port, role, priority) VALUES ($1, $2, $3, 'unknown', 1)`, [rows[0].id, host, port]);
    await expect(node(0)).rejects.toThrow(/chk_nodes_port/);
    await expect(node(65536)).rejects.toThrow(/chk_nodes_port/);
    await node(6379);
    await expect(node(6379)).rejects.toThrow(/uq_nodes_address/);
    await expect(client.query(`INSERT INTO nodes (cluster_id, host, port, role, priority) VALUES (gen_random_uuid(), 'h', 1, 'unknown', 1)`)).rejects.toThrow(
      /fk_nodes_cluster/,
    );
  });

  it('keep the event log and failover history append-only', async () => {
    await client.query(`INSERT INTO events (type, actor, data) VALUES ('test.event', 'test', '{}')`);
    await expect(client.query(`UPDATE events SET actor = 'someone else'`)).rejects.toThrow(/append-only/);
    await expect(client.query(`DELETE FROM events`)).rejects.toThrow(/append-only/);
    // Only retention's own transaction may drop old events, and it still may not rewrite one.
    await client.query('BEGIN');
    await client.query(`SET LOCAL vigil.pruning = 'on'`);
    await expect(client.query(`UPDATE events SET actor = 'someone else'`)).rejects.toThrow(/append-only/);
    await client.query('ROLLBACK');
    await client.query('BEGIN');
    await client.query(`SET LOCAL vigil.pruning = 'on'`);
    expect((await client.query(`DELETE FROM events WHERE type = 'test.event'`)).rowCount).toBe(1);
    await client.query('COMMIT');
    await client.query(`INSERT INTO events (type, actor, data) VALUES ('test.event', 'test', '{}')`);
    await expect(client.query(`DELETE FROM events`)).rejects.toThrow(/append-only/);
    await expect(client.query(`INSERT INTO events (type, actor, data) VALUES ('NotDotted', 'test', '{}')`)).rejects.toThrow(/chk_events_type/);
    const f = await client.query(
      `INSERT INTO failovers (cluster_name, trigger, epoch, outcome, actor, started_at) VALUES ('gone', 'manual', 1, 'failed', 'test', now()) RETURNING id`,
    );
    await expect(client.query(`DELETE FROM failovers WHERE id = $1`, [f.rows[0].id])).rejects.toThrow(/append-only/);
  });
});
