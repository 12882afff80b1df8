import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventFeed } from '../apps/controller/src/audit/event-feed.service.js';
import { freePort, waitFor } from '../libs/testing/src/index.js';
import { ADMIN_TOKEN, freshDatabase, startTestController, type TestController } from './support/controller.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MAINTENANCE = 'cluster.maintenance_started,cluster.maintenance_ended';

interface Frame {
  id: string;
  event: string;
  data: string;
  raw: string;
}

/** A server-sent event client over fetch that keeps every frame it receives, exactly as sent. */
class SseClient {
  readonly frames: Frame[] = [];
  comments = 0;
  ended = false;
  failed: Error | undefined;
  private buffer = '';

  private constructor(
    readonly status: number,
    readonly headers: Headers,
    private readonly abort: AbortController,
  ) {}

  static async open(url: string, token: string | null = ADMIN_TOKEN, headers: Record<string, string> = {}): Promise<SseClient> {
    const abort = new AbortController();
    const res = await fetch(url, {
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), accept: 'text/event-stream', ...headers },
      signal: abort.signal,
    });
    const client = new SseClient(res.status, res.headers, abort);
    if (res.body) void client.pump(res.body.getReader());
    return client;
  }

  /** Events by id, in arrival order. */
  get ids(): string[] {
    return this.frames.map((f) => f.id);
  }

  until(count: number, timeoutMs = 10_000): Promise<Frame[]> {
    return waitFor(async () => this.frames.length >= count && this.frames, timeoutMs, `${count} frames (have ${this.frames.length})`, 20);
  }

  close(): void {
    this.abort.abort();
  }

  private async pump(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        this.buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = this.buffer.indexOf('\n\n')) >= 0) {
          const raw = this.buffer.slice(0, end + 2);
          this.buffer = this.buffer.slice(end + 2);
          if (raw.startsWith(':')) {
            this.comments++;
            continue;
          }
          const m = /^id: (\d+)\nevent: ([a-z0-9_.]+)\ndata: (.*)\n\n$/.exec(raw);
          if (!m) throw new Error(`malformed frame ${JSON.stringify(raw)}`);
          this.frames.push({ id: m[1]!, event: m[2]!, data: m[3]!, raw });
        }
      }
      this.ended = true;
    } catch (err) {
      if ((err as Error).name !== 'AbortError') this.failed = err as Error;
    }
  }
}

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  answered: number;
}

/** A webhook receiver on a free port: answers each request with the next status of `plan`, then `otherwise`. */
async function startReceiver(plan: number[] = [], otherwise = 200): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answered = plan.shift() ?? otherwise;
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), answered });
      res.writeHead(answered).end();
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${port}/hook`, received, server };
}

/** What a receiver does to check a delivery. */
function signatureValid(secret: string, r: Received): boolean {
  const expected = createHmac('sha256', secret).update(`${r.headers['x-vigil-timestamp']}.${r.body}`).digest('hex');
  return r.headers['x-vigil-signature'] === `sha256=${expected}`;
}

describe('events out: server-sent events and webhooks', () => {
  let ctl: TestController;
  let db: pg.Client;
  let viewer: string;
  let closed = false;
  const streams: SseClient[] = [];
  const receivers: Server[] = [];

  const stream = async (query: string, headers: Record<string, string> = {}, token: string | null = viewer) => {
    const s = await SseClient.open(`${ctl.url}/api/v1/events/stream${query}`, token, headers);
    streams.push(s);
    return s;
  };
  const maintenance = async (cluster: string, on: boolean) => {
    const res = on
      ? await ctl.api('PUT', `/api/v1/clusters/${cluster}/maintenance`, { body: { until: new Date(Date.now() + 3_600_000).toISOString(), reason: 'test' } })
      : await ctl.api('DELETE', `/api/v1/clusters/${cluster}/maintenance`);
    expect(res.status).toBe(200);
  };
  /** The event as `GET /events` lists it. */
  const logged = async (id: string) => {
    const page = await ctl.api('GET', `/api/v1/events?after=${BigInt(id) - 1n}&limit=1`);
    expect(page.body.items[0].id).toBe(id);
    return page.body.items[0];
  };

  beforeAll(async () => {
    const url = await freshDatabase();
    ctl = await startTestController(url, { WEBHOOK_RETRY_BASE_MS: '20', WEBHOOK_ALLOW_PRIVATE: 'true' });
    db = new pg.Client({ connectionString: url });
    await db.connect();
    await waitFor(async () => (await ctl.api('GET', '/api/v1/leadership')).body.leader === true, 10_000, 'the controller to lead');
    viewer = (await ctl.api('POST', '/api/v1/tokens', { body: { name: 'dashboard', role: 'viewer' } })).body.token;
    // Nodes on closed ports: nothing answers, which is all these tests need (events come from API actions).
    for (const name of ['alpha', 'beta']) {
      const res = await ctl.api('POST', '/api/v1/clusters', {
        body: { name, quorum: 1, downAfterMs: 1000, nodes: [{ host: '127.0.0.1', port: await freePort() }] },
      });
      expect(res.status).toBe(201);
    }
  });

  afterAll(async () => {
    for (const s of streams) s.close();
    await Promise.all(receivers.map((r) => new Promise((resolve) => r.close(resolve))));
    await db?.end();
    if (!closed) await ctl?.close();
  });

  describe('GET /events/stream', () => {
    it('refuses a missing token (401) and bad parameters (400 naming the field)', async () => {
      const anonymous = await fetch(`${ctl.url}/api/v1/events/stream`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('content-type')).toMatch(/application\/json/);
      expect(await anonymous.json()).toMatchObject({ statusCode: 401, error: 'unauthenticated' });

      const bad = async (query: string, headers: Record<string, string> = {}) => {
        const res = await fetch(`${ctl.url}/api/v1/events/stream${query}`, { headers: { authorization: `Bearer ${viewer}`, ...headers } });
        expect(res.status).toBe(400);
        return ((await res.json()) as { details: { field: string }[] }).details.map((d) => d.field);
      };
      expect(await bad('?cluster=Not_A_Name')).toEqual(['cluster']);
      expect(await bad('?types=master.changed,Bad')).toEqual(['types']);
      expect(await bad('?lastEventId=abc')).toEqual(['lastEventId']);
      expect(await bad('?colour=red')).toEqual(['colour']);
      expect(await bad('', { 'last-event-id': 'x1' })).toEqual(['Last-Event-ID']);
    });

    it('streams live events in order, framed as id/event/data, unbuffered; ?cluster= filters', async () => {
      const all = await stream(`?types=${MAINTENANCE}`);
      const alpha = await stream(`?cluster=alpha&types=${MAINTENANCE}`);
      expect(all.status).toBe(200);
      expect(all.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(all.headers.get('x-accel-buffering')).toBe('no');
      expect(all.headers.get('cache-control')).toMatch(/no-cache/);

      await maintenance('alpha', true);
      await maintenance('beta', true);
      await maintenance('alpha', false);

      const frames = await all.until(3);
      expect(frames.map((f) => [f.event, JSON.parse(f.data).cluster])).toEqual([
        ['cluster.maintenance_started', 'alpha'],
        ['cluster.maintenance_started', 'beta'],
        ['cluster.maintenance_ended', 'alpha'],
      ]);
      const ids = frames.map((f) => BigInt(f.id));
      expect([...ids].sort((a, b) => (a < b ? -1 : 1))).toEqual(ids);
      for (const f of frames) {
        const item = await logged(f.id);
        expect(f.raw).toBe(`id: ${f.id}\nevent: ${item.type}\ndata: ${JSON.stringify(item)}\n\n`);
      }

      const onlyAlpha = await alpha.until(2);
      expect(onlyAlpha.map((f) => f.id)).toEqual([frames[0]!.id, frames[2]!.id]);
      await sleep(200);
      expect(alpha.frames).toHaveLength(2);
      expect(all.frames).toHaveLength(3);
    });

    it('resumes with Last-Event-ID: replays exactly the missed events, then continues live', async () => {
      const first = await stream(`?types=${MAINTENANCE}`);
      await maintenance('alpha', true);
      const [seen] = await first.until(1);
      first.close();

      await maintenance('beta', false);
      await maintenance('alpha', false);

      const resumed = await stream(`?types=${MAINTENANCE}`, { 'Last-Event-ID': seen!.id });
      const replayed = await resumed.until(2);
      expect(replayed.map((f) => [f.event, JSON.parse(f.data).cluster])).toEqual([
        ['cluster.maintenance_ended', 'beta'],
        ['cluster.maintenance_ended', 'alpha'],
      ]);
      await maintenance('beta', true);
      const after = await resumed.until(3);
      expect(after[2]).toMatchObject({ event: 'cluster.maintenance_started' });
      expect(JSON.parse(after[2]!.data).cluster).toBe('beta');
      await sleep(200);
      expect(resumed.frames).toHaveLength(3);
      expect(new Set(resumed.ids).size).toBe(3);
      expect(resumed.ids.every((id) => BigInt(id) > BigInt(seen!.id))).toBe(true);

      // The same through the query parameter (for clients that cannot set headers).
      const byQuery = await stream(`?types=${MAINTENANCE}&lastEventId=${replayed[0]!.id}`);
      expect((await byQuery.until(2)).map((f) => f.id)).toEqual([replayed[1]!.id, after[2]!.id]);
    });

    it('replays in id order across a change in the number of digits', async () => {
      const [{ id }] = (await db.query(`SELECT max(id)::int AS id FROM events`)).rows;
      await db.query(`INSERT INTO events (type, actor, data) SELECT 'test.filler', 'test', '{}' FROM generate_series(1, $1::int)`, [995 - id]);
      await db.query(`INSERT INTO events (type, actor, data) SELECT 'test.marker', 'test', jsonb_build_object('n', n) FROM generate_series(1, 10) AS n`);
      const markers = (await db.query(`SELECT id::text AS id FROM events WHERE type = 'test.marker' ORDER BY events.id`)).rows.map((r) => r.id);
      expect(markers[0]).toBe('996');
      const feed = ctl.app.get(EventFeed);
      await waitFor(async () => BigInt(feed.position) >= 1005n, 5000, 'the feed to reach the markers');
      const s = await stream('?types=test.marker', { 'Last-Event-ID': '995' });
      expect((await s.until(10)).map((f) => f.id)).toEqual(markers);
    });
  });

  describe('webhooks', () => {
    it('refuses bad input with 400 naming each field, and non-admins with 403', async () => {
      const fields = async (body: unknown) => {
        const res = await ctl.api('POST', '/api/v1/webhooks', { body });
        expect(res.status).toBe(400);
        return res.body.details.map((d: { field: string }) => d.field);
      };
      expect(await fields({ url: 'not a url' })).toEqual(['url']);
      expect(await fields({ url: 'ftp://example.com/x' })).toEqual(['url']);
      expect(await fields({ url: 'https://user:pass@example.com/x' })).toEqual(['url']);
      expect(await fields({ url: 'http://example.com/x', colour: 'red' })).toEqual(['colour']);
      expect(await fields({ url: 'http://example.com/x', types: ['master.changed', 'NotAType'] })).toEqual(['types']);
      expect(await fields({ url: 'http://example.com/x', types: [] })).toEqual(['types']);
      expect(await fields({ url: 'http://example.com/x', cluster: 'Bad Name' })).toEqual(['cluster']);
      expect(await fields({ url: 'http://example.com/x', cluster: 'nosuchcluster' })).toEqual(['cluster']);
      expect(await fields({ url: 'http://example.com/x', secret: 'short' })).toEqual(['secret']);
      expect((await ctl.api('POST', '/api/v1/webhooks', { token: viewer, body: { url: 'http://example.com/x' } })).status).toBe(403);
      expect((await ctl.api('GET', '/api/v1/webhooks', { token: viewer })).status).toBe(403);
      expect((await ctl.api('GET', '/api/v1/webhooks/not-a-uuid')).body.details).toEqual([{ field: 'id', reason: 'must be a UUID' }]);
      expect((await ctl.api('GET', '/api/v1/webhooks/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    });

    it('delivers signed events with retries: exactly one accepted delivery after two 500s, logged per attempt; scoped and global webhooks, no history', async () => {
      const scopedReceiver = await startReceiver([500, 500]);
      const globalReceiver = await startReceiver();
      receivers.push(scopedReceiver.server, globalReceiver.server);

      const scoped = await ctl.api('POST', '/api/v1/webhooks', { body: { url: scopedReceiver.url, cluster: 'alpha', types: ['cluster.maintenance_started'] } });
      expect(scoped.status).toBe(201);
      expect(scoped.body).toMatchObject({
        url: scopedReceiver.url,
        cluster: 'alpha',
        types: ['cluster.maintenance_started'],
        createdBy: 'token:bootstrap-admin',
      });
      expect(scoped.body.secret).toMatch(/^whsec_/);
      const globalSecret = 'receiver-chosen-secret-0123456789';
      const global = await ctl.api('POST', '/api/v1/webhooks', { body: { url: globalReceiver.url, cluster: null, secret: globalSecret } });
      expect(global.status).toBe(201);
      expect(global.body).toMatchObject({ cluster: null, types: null, secret: globalSecret });
      const created = (await ctl.api('GET', '/api/v1/events?type=webhook.created')).body.items;
      const globalCreatedAt = BigInt(created.find((e: { data: { webhookId: string } }) => e.data.webhookId === global.body.id).id);

      await maintenance('beta', false);
      await maintenance('beta', true);
      await maintenance('alpha', true);

      await waitFor(async () => scopedReceiver.received.some((r) => r.answered === 200), 15_000, 'an accepted delivery to the scoped webhook');
      await waitFor(
        async () => globalReceiver.received.filter((r) => r.headers['x-vigil-event'] === 'cluster.maintenance_started').length >= 2,
        15_000,
        'both maintenance events at the global webhook',
      );
      await sleep(1000); // nothing more may come

      // Scoped: alpha's event only, three attempts of one delivery, the last accepted.
      const attempts = scopedReceiver.received;
      expect(attempts.map((r) => r.answered)).toEqual([500, 500, 200]);
      const event = await logged(attempts[0]!.headers['x-vigil-event-id'] as string);
      expect(event).toMatchObject({ type: 'cluster.maintenance_started', cluster: 'alpha' });
      for (const r of attempts) {
        expect(r.headers['content-type']).toBe('application/json');
        expect(r.headers['x-vigil-event']).toBe('cluster.maintenance_started');
        expect(r.headers['x-vigil-event-id']).toBe(event.id);
        expect(r.headers['x-vigil-delivery']).toBe(attempts[0]!.headers['x-vigil-delivery']);
        expect(Math.abs(Number(r.headers['x-vigil-timestamp']) - Date.now() / 1000)).toBeLessThan(30);
        expect(signatureValid(scoped.body.secret, r)).toBe(true);
        expect(signatureValid('another-secret-0123456789', r)).toBe(false);
        expect(r.body).toBe(JSON.stringify(event));
      }

      // Global: every event after its creation (none before), each once, signed with the given secret.
      const ids = globalReceiver.received.map((r) => r.headers['x-vigil-event-id'] as string);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.every((id) => BigInt(id) > globalCreatedAt)).toBe(true);
      expect(globalReceiver.received.every((r) => signatureValid(globalSecret, r))).toBe(true);
      const maintenanceEvents = globalReceiver.received.map((r) => JSON.parse(r.body)).filter((e) => e.type.startsWith('cluster.maintenance_'));
      expect(maintenanceEvents.map((e) => [e.type, e.cluster]).sort()).toEqual([
        ['cluster.maintenance_ended', 'beta'],
        ['cluster.maintenance_started', 'alpha'],
        ['cluster.maintenance_started', 'beta'],
      ]);

      // The delivery log: one row per attempt, newest first.
      const log = await ctl.api('GET', `/api/v1/webhooks/${scoped.body.id}/deliveries`);
      expect(log.status).toBe(200);
      expect(log.body.items.map((d: Record<string, unknown>) => [d.attempt, d.statusCode, d.outcome, d.eventId])).toEqual([
        [3, 200, 'delivered', event.id],
        [2, 500, 'retrying', event.id],
        [1, 500, 'retrying', event.id],
      ]);
      expect(new Set(log.body.items.map((d: { deliveryId: string }) => d.deliveryId))).toEqual(new Set([attempts[0]!.headers['x-vigil-delivery']]));
      expect(log.body.next).toBeNull();
      const paged = await ctl.api('GET', `/api/v1/webhooks/${scoped.body.id}/deliveries?limit=2`);
      expect(paged.body.items).toHaveLength(2);
      const rest = await ctl.api('GET', `/api/v1/webhooks/${scoped.body.id}/deliveries?before=${paged.body.next}`);
      expect(rest.body.items.map((d: { attempt: number }) => d.attempt)).toEqual([1]);

      // A dispatcher going over the same events again (a crash before it moved the cursor, a new leader) adds no job twice.
      const [{ at }] = (await db.query(`SELECT last_event_id::int AS at FROM webhook_cursor`)).rows;
      await db.query(`UPDATE webhook_cursor SET last_event_id = $1`, [Number(event.id) - 5]);
      await waitFor(async () => (await db.query(`SELECT last_event_id::int AS at FROM webhook_cursor`)).rows[0].at >= at, 5000, 'the cursor to come back');
      await sleep(500);
      expect(attempts).toHaveLength(3);
      expect(new Set(globalReceiver.received.map((r) => r.headers['x-vigil-event-id'])).size).toBe(globalReceiver.received.length);

      // Reads never show the secret; delete removes the webhook and its log.
      const list = await ctl.api('GET', '/api/v1/webhooks');
      expect(list.body.items.map((w: { id: string }) => w.id)).toEqual([scoped.body.id, global.body.id]);
      expect(list.text).not.toContain('secret');
      expect((await ctl.api('GET', `/api/v1/webhooks/${scoped.body.id}`)).body).toMatchObject({ id: scoped.body.id, cluster: 'alpha' });
      expect((await ctl.api('DELETE', `/api/v1/webhooks/${scoped.body.id}`)).status).toBe(204);
      expect((await ctl.api('GET', `/api/v1/webhooks/${scoped.body.id}`)).status).toBe(404);
      expect((await ctl.api('GET', `/api/v1/webhooks/${scoped.body.id}/deliveries`)).status).toBe(404);
      expect((await ctl.api('GET', '/api/v1/events?type=webhook.deleted')).body.items.map((e: { data: unknown }) => e.data)).toEqual([
        { webhookId: scoped.body.id, target: new URL(scopedReceiver.url).origin },
      ]);
    });
    it('gives up after the last attempt, logged as failed', async () => {
      const dead = await startReceiver([], 503);
      receivers.push(dead.server);
      const hook = await ctl.api('POST', '/api/v1/webhooks', { body: { url: dead.url, cluster: 'beta', types: ['cluster.maintenance_ended'] } });
      expect(hook.status).toBe(201);
      await maintenance('beta', false);
      const deliveries = async () => (await ctl.api('GET', `/api/v1/webhooks/${hook.body.id}/deliveries`)).body.items;
      await waitFor(async () => (await deliveries())[0]?.outcome === 'failed', 20_000, 'the last attempt');
      await sleep(500);
      expect((await deliveries()).map((d: Record<string, unknown>) => [d.attempt, d.statusCode, d.outcome])).toEqual([
        [8, 503, 'failed'],
        ...[7, 6, 5, 4, 3, 2, 1].map((attempt) => [attempt, 503, 'retrying']),
      ]);
      expect(dead.received).toHaveLength(8);
    });
  });

  it('ends open streams cleanly when the controller shuts down', async () => {
    const s = await stream('');
    expect(s.status).toBe(200);
    closed = true;
    await ctl.close();
    await waitFor(async () => s.ended || s.failed, 5000, 'the stream to end');
    expect(s.failed).toBeUndefined();
    expect(s.ended).toBe(true);
  });
});
