import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis } from '../libs/testing/src/index.js';
import { freshDatabase, startTestController, type TestController } from './support/controller.js';
import { discoveryRetriedThroughQueue } from './support/jobs-scenario.js';

describe('BullMQ on its Redis backend (REDIS_URL set)', () => {
  let ctl: TestController;
  let url: string;
  let queueRedis: RedisServer;
  let node: RedisServer[] = [];

  beforeAll(async () => {
    url = await freshDatabase();
    queueRedis = await startRedis();
    ctl = await startTestController(url, { REDIS_URL: `redis://127.0.0.1:${queueRedis.port}/0` });
  });

  afterAll(async () => {
    await ctl?.close();
    await Promise.all(node.map((s) => s.stop()));
    await queueRedis?.stop();
  });

  it('retries a side effect through a queue kept in Redis, not in PostgreSQL', async () => {
    node = await discoveryRetriedThroughQueue(ctl, 'redisjobs');
    const r = queueRedis.client();
    await r.connect();
    try {
      expect(await r.keys('bull:vigil-topology:*')).not.toEqual([]);
    } finally {
      r.disconnect();
    }
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      expect((await client.query(`SELECT to_regclass('bullmq.job') IS NOT NULL AS present`)).rows[0].present).toBe(false);
    } finally {
      await client.end();
    }
  });

  it('reports Redis in readiness, and stays ready when it is gone (it carries only deferrable side effects)', async () => {
    expect((await ctl.api('GET', '/health/ready', { token: null })).body.checks).toEqual({ postgres: { status: 'up' }, redis: { status: 'up' } });
    queueRedis.signal('SIGSTOP');
    try {
      const res = await ctl.api('GET', '/health/ready', { token: null });
      expect(res.status).toBe(200);
      expect(res.body.checks.redis.status).toBe('down');
    } finally {
      queueRedis.signal('SIGCONT');
    }
  });
});
