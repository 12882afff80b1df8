import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type RedisServer, startRedis, waitFor } from '../libs/testing/src/index.js';
import { freshDatabase, startTestController, type TestController } from './support/controller.js';
import { discoveryRetriedThroughQueue } from './support/jobs-scenario.js';

describe('BullMQ on its PostgreSQL backend (the default)', () => {
  let ctl: TestController;
  let url: string;
  let redis: RedisServer[] = [];

  beforeAll(async () => {
    url = await freshDatabase();
    ctl = await startTestController(url);
  });

  afterAll(async () => {
    await ctl?.close();
    await Promise.all(redis.map((s) => s.stop()));
  });

  it('retries a side effect through a queue kept in PostgreSQL', async () => {
    redis = await discoveryRetriedThroughQueue(ctl, 'pgjobs');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const jobs = await client.query(`SELECT count(*)::int AS n FROM bullmq.job`);
      const queues = await client.query(`SELECT to_regclass('bullmq.job') IS NOT NULL AS present`);
      expect(queues.rows[0].present).toBe(true);
      expect(jobs.rows[0].n).toBeGreaterThanOrEqual(1);
    } finally {
      await client.end();
    }
  });

  it('a slow enqueue marks the backend down; jobs wait in the outbox and the backend is marked up again by moving them', async () => {
    const backendUp = async () =>
      Number(/^vigil_jobs_backend_up\{[^}]*backend="postgres"[^}]*\} (\d)/m.exec(await fetch(`${ctl.url}/metrics`).then((r) => r.text()))?.[1]);
    expect(await backendUp()).toBe(1);
    const port = await freePort();
    // A real fault: BullMQ's job table locked by another session, so an enqueue waits past its 1 s bound.
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE bullmq.job IN ACCESS EXCLUSIVE MODE');
      const created = await ctl.api('POST', '/api/v1/clusters', {
        body: { name: 'slowjobs', quorum: 1, downAfterMs: 1000, nodes: [{ host: '127.0.0.1', port }] },
      });
      expect(created.status, created.text).toBe(201);
      await waitFor(async () => (await backendUp()) === 0, 10_000, 'the backend marked down');
    } finally {
      await locker.query('COMMIT').catch(() => undefined);
      await locker.end();
    }
    await waitFor(async () => (await backendUp()) === 1, 15_000, 'the backend marked up again once the outbox moves');
    redis.push(await startRedis({ port }));
    await waitFor(
      async () => (await ctl.api('GET', '/api/v1/clusters/slowjobs/nodes')).body.items[0]?.role === 'master',
      20_000,
      'the deferred discovery job ran',
      100,
    );
    const types = (await ctl.api('GET', '/api/v1/events?type=jobs.backend_restored')).body.items.map((e: { type: string }) => e.type);
    expect(types).toContain('jobs.backend_restored');
  });
});
