import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogRetention } from '../apps/controller/src/events-out/log-retention.service.js';
import { WebhookDispatcher } from '../apps/controller/src/events-out/webhook-dispatcher.service.js';
import { waitFor } from '../libs/testing/src/index.js';
import { freshDatabase, startTestController, type TestController } from './support/controller.js';

describe('log retention', () => {
  let controller: TestController;
  let db: string;
  let client: pg.Client;

  beforeAll(async () => {
    db = await freshDatabase();
    controller = await startTestController(db, { WEBHOOK_DELIVERY_RETENTION_DAYS: '1', EVENT_RETENTION_DAYS: '7' });
    await waitFor(async () => (await controller.api('GET', '/api/v1/leadership')).body.leader === true, 10_000, 'the controller to lead');
    client = new pg.Client({ connectionString: db });
    await client.connect();
  });

  afterAll(async () => {
    await client?.end();
    await controller?.close();
  });

  it('deletes delivery attempts older than WEBHOOK_DELIVERY_RETENTION_DAYS and keeps the rest', async () => {
    const hook = (await controller.api('POST', '/api/v1/webhooks', { body: { url: 'https://hooks.example.com/x' } })).body;
    const insert = (age: string) =>
      client.query(
        `INSERT INTO webhook_deliveries (webhook_id, event_id, delivery_id, attempt, duration_ms, at, outcome)
         VALUES ($1, 1, gen_random_uuid(), 1, 5, now() - $2::interval, 'delivered')`,
        [hook.id, age],
      );
    for (let i = 0; i < 3; i++) await insert('2 days');
    await insert('1 hour');
    // (The service's own prune, 5 s after start, may have run first: the rows left are what counts.)
    await controller.app.get(LogRetention).prune();
    const left = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM webhook_deliveries`);
    expect(left.rows[0]!.n).toBe('1');
    expect((await controller.api('GET', `/api/v1/webhooks/${hook.id}/deliveries`)).body.items).toHaveLength(1);
  });

  it('deletes events older than EVENT_RETENTION_DAYS, but never one the webhook dispatcher has not handed out yet', async () => {
    // The dispatcher would move its cursor past the events below as soon as their notifications arrive (25 ms):
    // stopped (its running pass awaited), the cursor stays where this test puts it.
    await controller.app.get(WebhookDispatcher).beforeApplicationShutdown();
    const insert = async (type: string, age: string) =>
      (
        await client.query<{ id: string }>(
          `INSERT INTO events (at, type, actor, data) VALUES (now() - $2::interval, $1, 'test', '{}') RETURNING id::text AS id`,
          [type, age],
        )
      ).rows[0]!.id;
    const old = [await insert('test.old', '30 days'), await insert('test.old', '8 days')];
    const recent = await insert('test.recent', '6 days');
    // The dispatcher's cursor stops before this one: old as it is, its deliveries are still due.
    await client.query(`UPDATE webhook_cursor SET last_event_id = $1`, [recent]);
    const undelivered = await insert('test.undelivered', '30 days');

    const pruned = await controller.app.get(LogRetention).prune();
    expect(pruned.events).toBe(2);
    const left = await client.query<{ id: string }>(`SELECT id::text AS id FROM events WHERE type LIKE 'test.%' ORDER BY id`);
    expect(left.rows.map((r) => r.id)).toEqual([recent, undelivered]);
    expect(left.rows.map((r) => r.id)).not.toContain(old[0]);
    // Through the API too: the events feed no longer lists them.
    const listed = (await controller.api('GET', '/api/v1/events?type=test.old')).body.items;
    expect(listed).toEqual([]);
  });
});
