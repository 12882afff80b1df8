import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryRetention } from '../apps/controller/src/events-out/delivery-retention.service.js';
import { waitFor } from '../libs/testing/src/index.js';
import { freshDatabase, startTestController, type TestController } from './support/controller.js';

describe('webhook delivery log retention', () => {
  let controller: TestController;
  let db: string;

  beforeAll(async () => {
    db = await freshDatabase();
    controller = await startTestController(db, { WEBHOOK_DELIVERY_RETENTION_DAYS: '1' });
    await waitFor(async () => (await controller.api('GET', '/api/v1/leadership')).body.leader === true, 10_000, 'the controller to lead');
  });

  afterAll(() => controller?.close());

  it('deletes attempts older than WEBHOOK_DELIVERY_RETENTION_DAYS and keeps the rest', async () => {
    const hook = (await controller.api('POST', '/api/v1/webhooks', { body: { url: 'https://hooks.example.com/x' } })).body;
    const client = new pg.Client({ connectionString: db });
    await client.connect();
    try {
      const insert = (age: string) =>
        client.query(
          `INSERT INTO webhook_deliveries (webhook_id, event_id, delivery_id, attempt, duration_ms, at, outcome)
           VALUES ($1, 1, gen_random_uuid(), 1, 5, now() - $2::interval, 'delivered')`,
          [hook.id, age],
        );
      for (let i = 0; i < 3; i++) await insert('2 days');
      await insert('1 hour');
      // (The service's own prune, 5 s after start, may have run first: the rows left are what counts.)
      await controller.app.get(DeliveryRetention).prune();
      const left = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM webhook_deliveries`);
      expect(left.rows[0]!.n).toBe('1');
      expect((await controller.api('GET', `/api/v1/webhooks/${hook.id}/deliveries`)).body.items).toHaveLength(1);
    } finally {
      await client.end();
    }
  });
});
