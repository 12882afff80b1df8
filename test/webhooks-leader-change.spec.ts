import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from '../libs/testing/src/index.js';
import { freshDatabase, startTestController, type TestController } from './support/controller.js';

/**
 * Webhook deliveries are enqueued by the leader from a cursor kept in PostgreSQL: when the leader goes
 * away mid-stream, the next one carries on from the cursor, and no event is lost or delivered twice.
 */
describe('webhooks across a leader change', () => {
  let a: TestController;
  let b: TestController;
  let receiver: Server;
  let aClosed = false;
  /** Accepted deliveries: event id → delivery ids seen. */
  const deliveries = new Map<string, string[]>();
  const types: string[] = [];

  beforeAll(async () => {
    const db = await freshDatabase();
    const ha = { LEADER_LEASE_MS: '1500', LEADER_RENEW_MS: '300', WEBHOOK_RETRY_BASE_MS: '20', WEBHOOK_ALLOW_PRIVATE: 'true' };
    a = await startTestController(db, { ...ha, CONTROLLER_NAME: 'ctl-a' });
    await waitFor(async () => (await a.api('GET', '/api/v1/leadership')).body.leader === true, 10_000, 'A to lead');
    b = await startTestController(db, { ...ha, CONTROLLER_NAME: 'ctl-b' });
    const port = await freePort();
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const event = String(req.headers['x-vigil-event-id']);
        const list = deliveries.get(event) ?? [];
        list.push(String(req.headers['x-vigil-delivery']));
        deliveries.set(event, list);
        types.push(JSON.parse(body).type);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(port, '127.0.0.1', resolve));
    const hook = await a.api('POST', '/api/v1/webhooks', { body: { url: `http://127.0.0.1:${port}/hook`, types: ['cluster.updated'] } });
    expect(hook.status).toBe(201);
    const cluster = await a.api('POST', '/api/v1/clusters', {
      body: { name: 'ha', quorum: 1, downAfterMs: 1000, autoFailover: false, nodes: [{ host: '127.0.0.1', port: await freePort() }] },
    });
    expect(cluster.status).toBe(201);
  });

  afterAll(async () => {
    await new Promise((resolve) => receiver?.close(resolve));
    await b?.close();
    if (!aClosed) await a?.close();
  });

  it('delivers every event exactly once when the leader stops in the middle', async () => {
    const patch = (ctl: TestController, i: number) => ctl.api('PATCH', '/api/v1/clusters/ha', { body: { cooldownMs: 1000 + i } });
    for (let i = 0; i < 10; i++) expect((await patch(a, i)).status).toBe(200);
    // Stop A at once, some deliveries possibly still unenqueued; B takes the lease and the cursor.
    aClosed = true;
    await a.close();
    await waitFor(async () => (await b.api('GET', '/api/v1/leadership')).body.leader === true, 10_000, 'B to lead');
    for (let i = 10; i < 20; i++) expect((await patch(b, i)).status).toBe(200);

    await waitFor(async () => deliveries.size >= 20, 20_000, `20 deliveries (have ${deliveries.size})`);
    const events = (await b.api('GET', '/api/v1/events?cluster=ha&type=cluster.updated&limit=100')).body.items as { id: string }[];
    expect(events).toHaveLength(20);
    expect([...deliveries.keys()].sort()).toEqual(events.map((e) => e.id).sort());
    // Each event accepted once: one request per event, none repeated.
    for (const [event, ids] of deliveries) expect(ids, `event ${event}`).toHaveLength(1);
    expect(new Set(types)).toEqual(new Set(['cluster.updated']));
  }, 60_000);
});
