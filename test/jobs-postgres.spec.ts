import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisServer } from '../libs/testing/src/index.js';
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
});
