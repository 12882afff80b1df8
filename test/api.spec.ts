import { request } from 'node:http';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startReplicationGroup } from '../libs/testing/src/index.js';
import { ADMIN_TOKEN, freshDatabase, type TestController, startTestController } from './support/controller.js';
import { parseToken } from '../apps/controller/src/auth/token-secret.js';

const REDIS_PASSWORD = 'correct-horse-battery-staple';

/**
 * POSTs a body larger than the limit with node:http: the server may answer 413 and close before the
 * whole body is sent, which fetch reports as a network error instead of the answer.
 */
function statusOfOversizedPost(url: string, token: string, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ name: 'x'.repeat(bytes) });
    const req = request(
      url,
      { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', (err) => setTimeout(() => reject(err), 500)); // an EPIPE after the answer is expected
    req.end(body);
  });
}

describe('REST API on a real controller, PostgreSQL and redis-server', () => {
  let ctl: TestController;
  let db: pg.Client;
  let group: RedisServer[];
  let operator: string;
  let viewer: string;
  let agentToken: string;

  beforeAll(async () => {
    const url = await freshDatabase();
    [ctl, group] = await Promise.all([startTestController(url), startReplicationGroup(2, { password: REDIS_PASSWORD })]);
    db = new pg.Client({ connectionString: url });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await ctl?.close();
    await Promise.all((group ?? []).map((s) => s.stop()));
  });

  const nodesOf = () => group.map((s, i) => ({ host: s.host, port: s.port, priority: 10 * (i + 1), zone: `z${i}` }));

  describe('auth', () => {
    it('answers 401 without a token, with a malformed header and with an unknown token', async () => {
      const attempts: Record<string, string>[] = [
        {},
        { authorization: 'Basic abc' },
        { authorization: `Bearer vgl_AAAAAAAAAAAA_${'x'.repeat(43)}` },
        { authorization: 'Bearer not-a-token' },
      ];
      for (const headers of attempts) {
        const res = await fetch(`${ctl.url}/api/v1/clusters`, { headers });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toMatch(/Bearer/);
        expect(await res.json()).toMatchObject({ statusCode: 401, error: 'unauthenticated' });
      }
    });

    it('creates tokens shown once and stores only a salted hash', async () => {
      const created = await ctl.api('POST', '/api/v1/tokens', { body: { name: 'ops', role: 'operator' } });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ name: 'ops', role: 'operator', createdBy: 'token:bootstrap-admin' });
      operator = created.body.token;
      viewer = (await ctl.api('POST', '/api/v1/tokens', { body: { name: 'dash', role: 'viewer' } })).body.token;
      agentToken = (await ctl.api('POST', '/api/v1/tokens', { body: { name: 'agent-a', role: 'agent' } })).body.token;

      const rows = await db.query('SELECT name, lookup, secret_hash FROM api_tokens');
      const dump = JSON.stringify(rows.rows);
      for (const token of [operator, viewer, agentToken, ADMIN_TOKEN]) {
        expect(dump).not.toContain(token);
        expect(dump).not.toContain(parseToken(token)?.secret ?? token); // the secret part may itself hold '_'
      }
      expect(rows.rows.every((r) => r.secret_hash.startsWith('scrypt$'))).toBe(true);
      const list = await ctl.api('GET', '/api/v1/tokens');
      expect(list.text).not.toContain(operator);
      expect(list.body.items.map((t: { name: string }) => t.name)).toEqual(['bootstrap-admin', 'ops', 'dash', 'agent-a']);
    });

    it('answers 403 when the role is too weak, and 409 for a duplicate token name', async () => {
      expect((await ctl.api('POST', '/api/v1/tokens', { token: operator, body: { name: 'x', role: 'admin' } })).status).toBe(403);
      const forbidden = await ctl.api('POST', '/api/v1/clusters', {
        token: viewer,
        body: { name: 'v', quorum: 1, downAfterMs: 1000, nodes: [{ host: 'h', port: 1 }] },
      });
      expect(forbidden.status).toBe(403);
      expect(forbidden.body.message).toMatch(/needs the operator role; the token has viewer/);
      expect((await ctl.api('GET', '/api/v1/clusters', { token: agentToken })).status).toBe(403);
      expect((await ctl.api('POST', '/api/v1/agents/register', { token: ADMIN_TOKEN, body: { name: 'a', zone: 'z', version: '1' } })).status).toBe(403);
      const dup = await ctl.api('POST', '/api/v1/tokens', { body: { name: 'ops', role: 'viewer' } });
      expect(dup.status).toBe(409);
      expect(dup.body.details).toEqual([{ field: 'name', reason: 'a token named ops already exists' }]);
    });

    it('stops accepting a revoked token at once', async () => {
      const t = await ctl.api('POST', '/api/v1/tokens', { body: { name: 'temp', role: 'viewer' } });
      expect((await ctl.api('GET', '/api/v1/clusters', { token: t.body.token })).status).toBe(200);
      expect((await ctl.api('DELETE', `/api/v1/tokens/${t.body.id}`)).status).toBe(200);
      expect((await ctl.api('GET', '/api/v1/clusters', { token: t.body.token })).status).toBe(401);
      expect((await ctl.api('DELETE', '/api/v1/tokens/not-a-uuid')).body.details).toEqual([{ field: 'id', reason: 'must be a UUID' }]);
      expect((await ctl.api('DELETE', '/api/v1/tokens/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    });
  });

  describe('clusters', () => {
    it('creates a cluster and finds its master by asking the nodes', async () => {
      const res = await ctl.api('POST', '/api/v1/clusters', {
        token: operator,
        body: { name: 'orders', quorum: 2, downAfterMs: 5000, nodes: nodesOf(), redis: { password: REDIS_PASSWORD } },
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        name: 'orders',
        quorum: 2,
        downAfterMs: 5000,
        epoch: 0,
        autoFailover: true,
        redis: { passwordSet: true, username: null, tls: false },
      });
      expect(res.body.master).toEqual({ host: group[0]!.host, port: group[0]!.port });
      expect(res.body.nodes.map((n: { role: string }) => n.role).sort()).toEqual(['master', 'replica', 'replica']);
      // The answer is built from the rows as written: a read gives the same.
      expect((await ctl.api('GET', '/api/v1/clusters/orders')).body).toEqual(res.body);
    });

    it('never returns the Redis password and stores it encrypted', async () => {
      for (const path of ['/api/v1/clusters', '/api/v1/clusters/orders', '/api/v1/events?cluster=orders']) {
        const res = await ctl.api('GET', path);
        expect(res.status).toBe(200);
        expect(res.text).not.toContain(REDIS_PASSWORD);
      }
      const row = await db.query(`SELECT redis_password_sealed FROM clusters WHERE name = 'orders'`);
      expect(row.rows[0].redis_password_sealed).toMatch(/^v2\.[0-9a-f]{8}\./);
      expect(row.rows[0].redis_password_sealed).not.toContain(REDIS_PASSWORD);
      const everything = await db.query(`SELECT (SELECT json_agg(c) FROM clusters c)::text || (SELECT json_agg(e) FROM events e)::text AS t`);
      expect(everything.rows[0].t).not.toContain(REDIS_PASSWORD);
    });

    it('keeps the recorded master through a discovery round it misses', async () => {
      group[0]!.signal('SIGSTOP');
      try {
        const added = await ctl.api('POST', '/api/v1/clusters/orders/nodes', { token: operator, body: { host: '10.9.9.9', port: 99 } });
        expect(added.status).toBe(201);
        const view = (await ctl.api('GET', '/api/v1/clusters/orders')).body;
        expect(view.master).toEqual({ host: group[0]!.host, port: group[0]!.port });
        expect((await ctl.api('DELETE', `/api/v1/clusters/orders/nodes/${added.body.id}`, { token: operator })).status).toBe(204);
      } finally {
        group[0]!.signal('SIGCONT');
      }
    });

    it.each([
      [{ name: 'Bad_Name' }, 'name', 'must be a DNS label'],
      [{ name: '-x' }, 'name', 'must be a DNS label'],
      [{ quorum: 0 }, 'quorum', 'must be at least 1'],
      [{ quorum: 'two' }, 'quorum', 'must be an integer'],
      [{ downAfterMs: 5 }, 'downAfterMs', 'must not be less than 100'],
      [{ nodes: [] }, 'nodes', 'must contain at least 1 elements'],
      [{ nodes: [{ host: 'bad host!', port: 6379 }] }, 'nodes[0].host', 'must be an IP address or a host name'],
      [{ nodes: [{ host: '10.0.0.1', port: 0 }] }, 'nodes[0].port', 'must not be less than 1'],
      [{ nodes: [{ host: '10.0.0.1', port: 1, priority: -1 }] }, 'nodes[0].priority', 'must not be less than 0'],
      [
        {
          nodes: [
            { host: '10.0.0.1', port: 1 },
            { host: '10.0.0.1', port: 1 },
          ],
        },
        'nodes[1]',
        'duplicates nodes[0] (10.0.0.1:1)',
      ],
      [{ surprise: true }, 'surprise', 'property surprise should not exist'],
      [{ redis: { password: 5 } }, 'redis.password', 'must be a string'],
    ])('rejects bad input %j with 400 naming the field', async (override, field, reason) => {
      const body = { name: 'bad', quorum: 1, downAfterMs: 1000, nodes: [{ host: '10.9.9.9', port: 6379 }], ...override };
      const res = await ctl.api('POST', '/api/v1/clusters', { token: operator, body });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('validation_failed');
      expect(res.body.details).toContainEqual({ field, reason: expect.stringContaining(reason) });
    });

    it('rejects malformed JSON, wrong content and oversized bodies without a 500', async () => {
      const bad = await ctl.api('POST', '/api/v1/clusters', { token: operator, raw: '{"name": ' });
      expect(bad.status).toBe(400);
      expect(bad.body.details?.[0]?.field).toBe('body');
      const array = await ctl.api('POST', '/api/v1/clusters', { token: operator, raw: '[1,2]' });
      expect(array.status).toBe(400);
      expect(await statusOfOversizedPost(`${ctl.url}/api/v1/clusters`, operator, 2_000_000)).toBe(413);
      expect((await ctl.api('GET', '/api/v1/events?limit=0')).body.details).toContainEqual({ field: 'limit', reason: 'must not be less than 1' });
      expect((await ctl.api('GET', '/api/v1/events?since=yesterday')).body.details).toContainEqual({ field: 'since', reason: 'must be an ISO 8601 date-time' });
      expect((await ctl.api('GET', '/api/v1/clusters/UPPER')).status).toBe(400);
      const ancient = await ctl.api('PATCH', '/api/v1/clusters/orders', { token: operator, body: { maintenanceUntil: '-200000-01-01T00:00:00Z' } });
      expect(ancient.status).toBe(400);
      expect((await ctl.api('GET', '/api/v1/events?since=-200000-01-01T00:00:00Z')).status).toBe(400);
      expect((await ctl.api('GET', '/api/v1/nowhere')).status).toBe(404);
    });

    it('answers 404 for an unknown cluster and 409 for a duplicate name or a node already in use', async () => {
      expect((await ctl.api('GET', '/api/v1/clusters/nope')).status).toBe(404);
      expect((await ctl.api('PATCH', '/api/v1/clusters/nope', { token: operator, body: { quorum: 1 } })).status).toBe(404);
      const dup = await ctl.api('POST', '/api/v1/clusters', {
        token: operator,
        body: { name: 'orders', quorum: 1, downAfterMs: 1000, nodes: [{ host: '10.9.9.9', port: 1 }] },
      });
      expect(dup.status).toBe(409);
      expect(dup.body.details).toEqual([{ field: 'name', reason: 'a cluster named orders already exists' }]);
      const taken = await ctl.api('POST', '/api/v1/clusters', {
        token: operator,
        body: { name: 'other', quorum: 1, downAfterMs: 1000, nodes: [{ host: '10.9.9.9', port: 1 }, nodesOf()[1]] },
      });
      expect(taken.status).toBe(409);
      expect(taken.body.details[0].field).toBe('nodes[1]');
      expect((await ctl.api('GET', '/api/v1/clusters/other')).status).toBe(404);
    });

    it('updates settings and nodes, and deletes, each with an event naming the actor', async () => {
      const patched = await ctl.api('PATCH', '/api/v1/clusters/orders', {
        token: operator,
        body: { quorum: 3, autoFailover: false, redis: { password: 'rotated-password' } },
      });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ quorum: 3, autoFailover: false, redis: { passwordSet: true } });
      expect(patched.text).not.toContain('rotated-password');
      expect((await ctl.api('PATCH', '/api/v1/clusters/orders', { token: operator, body: { quorum: 0 } })).status).toBe(400);
      // null is not "absent": a setting that cannot be null is refused by validation, naming the field.
      for (const field of ['dnsNames', 'quorum', 'autoFailover', 'redis', 'cooldownMs']) {
        const nulled = await ctl.api('PATCH', '/api/v1/clusters/orders', { token: operator, body: { [field]: null } });
        expect(nulled.status, nulled.text).toBe(400);
        expect(nulled.body.details.map((d: { field: string }) => d.field)).toContain(field);
      }
      const password = await ctl.api('PATCH', '/api/v1/clusters/orders', { token: operator, body: { redis: { password: null } } });
      expect(password.status, password.text).toBe(400);
      expect((await ctl.api('PATCH', '/api/v1/clusters/orders', { token: operator, body: { dnsTtl: null } })).status).toBe(200);

      const node = patched.body.nodes[2];
      const nodePatched = await ctl.api('PATCH', `/api/v1/clusters/orders/nodes/${node.id}`, { token: operator, body: { priority: 0 } });
      expect(nodePatched.body.priority).toBe(0);

      await ctl.api('POST', '/api/v1/clusters', {
        token: operator,
        body: { name: 'scratch', quorum: 1, downAfterMs: 1000, nodes: [{ host: '10.9.9.9', port: 7 }] },
      });
      const added = await ctl.api('POST', '/api/v1/clusters/scratch/nodes', { token: operator, body: { host: '10.9.9.9', port: 8 } });
      expect(added.status).toBe(201);
      expect(added.body.role).toBe('unknown');
      expect((await ctl.api('POST', '/api/v1/clusters/scratch/nodes', { token: operator, body: { host: '10.9.9.9', port: 8 } })).status).toBe(409);
      expect((await ctl.api('DELETE', `/api/v1/clusters/scratch/nodes/${added.body.id}`, { token: operator })).status).toBe(204);
      expect((await ctl.api('DELETE', '/api/v1/clusters/scratch', { token: operator })).status).toBe(403);
      expect((await ctl.api('DELETE', '/api/v1/clusters/scratch')).status).toBe(204);
      expect((await ctl.api('GET', '/api/v1/clusters/scratch')).status).toBe(404);

      const events = await ctl.api('GET', '/api/v1/events?limit=500');
      const byType = (type: string) => events.body.items.filter((e: { type: string }) => e.type === type);
      expect(byType('cluster.created').map((e: { cluster: string; actor: string }) => [e.cluster, e.actor])).toEqual([
        ['orders', 'token:ops'],
        ['scratch', 'token:ops'],
      ]);
      expect(byType('cluster.updated')[0]).toMatchObject({
        cluster: 'orders',
        actor: 'token:ops',
        data: { changes: { quorum: 3, autoFailover: false, redis: { password: '<redacted>' } } },
      });
      expect(byType('node.updated')[0]).toMatchObject({ actor: 'token:ops', data: { changes: { priority: 0 } } });
      expect(byType('node.added')).toHaveLength(2);
      expect(byType('node.removed')).toHaveLength(2);
      expect(byType('cluster.deleted')[0]).toMatchObject({ cluster: 'scratch', actor: 'token:bootstrap-admin' });
      expect(byType('token.created').length).toBeGreaterThanOrEqual(3);
      expect(byType('token.revoked')).toHaveLength(1);
      expect(byType('cluster.roles_discovered')[0]).toMatchObject({ cluster: 'orders', data: { master: { port: group[0]!.port } } });
    });

    it('pages the event log and filters it by cluster, type and time', async () => {
      const all = (await ctl.api('GET', '/api/v1/events?limit=500')).body.items;
      const first = await ctl.api('GET', '/api/v1/events?limit=2');
      expect(first.body.items).toHaveLength(2);
      expect(first.body.next).toBe(first.body.items[1].id);
      const second = await ctl.api('GET', `/api/v1/events?limit=2&after=${first.body.next}`);
      expect(second.body.items[0].id).toBe(all[2].id);
      const orders = (await ctl.api('GET', '/api/v1/events?cluster=orders&limit=500')).body.items;
      expect(orders.length).toBeGreaterThan(0);
      expect(orders.every((e: { cluster: string }) => e.cluster === 'orders')).toBe(true);
      const typed = (await ctl.api('GET', '/api/v1/events?type=cluster.deleted')).body.items;
      expect(typed.map((e: { cluster: string }) => e.cluster)).toEqual(['scratch']);
      const future = (await ctl.api('GET', `/api/v1/events?since=${new Date(Date.now() + 60_000).toISOString()}`)).body;
      expect(future).toEqual({ items: [], next: null });
      const until = (await ctl.api('GET', `/api/v1/events?until=${encodeURIComponent(all[0].at)}`)).body.items;
      expect(until.every((e: { at: string }) => e.at < all[0].at)).toBe(true);
    });

    it('pages the cluster list in name order, and refuses a bad cursor or limit naming the field', async () => {
      const names = ['page-c', 'page-a', 'page-b'];
      for (const [i, name] of names.entries()) {
        const res = await ctl.api('POST', '/api/v1/clusters', {
          token: operator,
          body: { name, quorum: 1, downAfterMs: 1000, nodes: [{ host: '10.9.9.9', port: 20 + i }] },
        });
        expect(res.status, res.text).toBe(201);
      }
      const everyName = (await ctl.api('GET', '/api/v1/clusters?limit=1000')).body.items.map((c: { name: string }) => c.name);
      expect(everyName).toEqual([...everyName].sort());
      expect(everyName).toEqual(expect.arrayContaining(names));
      const seen: string[] = [];
      let after: string | null = null;
      for (let pages = 0; pages < 10; pages++) {
        const page: { status: number; body: { items: { name: string }[]; next: string | null } } = await ctl.api(
          'GET',
          `/api/v1/clusters?limit=2${after === null ? '' : `&after=${after}`}`,
        );
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.items.map((c: { name: string }) => c.name));
        after = page.body.next;
        if (after === null) break;
        expect(after).toBe(seen[seen.length - 1]);
      }
      expect(seen).toEqual(everyName);
      expect((await ctl.api('GET', '/api/v1/clusters?after=page-c&limit=1000')).body.items.map((c: { name: string }) => c.name)).toEqual(
        everyName.filter((n: string) => n > 'page-c'),
      );
      for (const [query, field] of [
        ['limit=0', 'limit'],
        ['limit=1001', 'limit'],
        ['limit=x', 'limit'],
        ['after=Not_A_Name', 'after'],
      ]) {
        const bad = await ctl.api('GET', `/api/v1/clusters?${query}`);
        expect(bad.status, query).toBe(400);
        expect(bad.body.details.map((d: { field: string }) => d.field)).toContain(field);
      }
      for (const name of names) expect((await ctl.api('DELETE', `/api/v1/clusters/${name}`)).status).toBe(204);
    });
  });

  describe('agents', () => {
    it('registers an agent bound to its token and records its heartbeats', async () => {
      const reg = await ctl.api('POST', '/api/v1/agents/register', { token: agentToken, body: { name: 'probe-a', zone: 'z1', version: '0.1.0' } });
      expect(reg.status).toBe(200);
      expect(reg.body).toMatchObject({ name: 'probe-a', heartbeatIntervalMs: expect.any(Number), staleAfterMs: expect.any(Number) });
      const before = (await ctl.api('GET', '/api/v1/agents', { token: viewer })).body.items[0];
      await new Promise((r) => setTimeout(r, 20));
      const hb = await ctl.api('POST', '/api/v1/agents/probe-a/heartbeat', { token: agentToken, body: { version: '0.1.0', uptimeMs: 1234 } });
      expect(hb.status).toBe(200);
      const after = (await ctl.api('GET', '/api/v1/agents', { token: viewer })).body.items[0];
      expect(after).toMatchObject({ name: 'probe-a', zone: 'z1', state: 'active' });
      expect(Date.parse(after.lastSeenAt)).toBeGreaterThan(Date.parse(before.lastSeenAt));
    });

    it('refuses another token speaking for a bound agent, and bad heartbeats', async () => {
      const other = (await ctl.api('POST', '/api/v1/tokens', { body: { name: 'agent-b', role: 'agent' } })).body.token;
      expect((await ctl.api('POST', '/api/v1/agents/register', { token: other, body: { name: 'probe-a', zone: 'z1', version: '0.1.0' } })).status).toBe(409);
      expect((await ctl.api('POST', '/api/v1/agents/probe-a/heartbeat', { token: other, body: { version: '1', uptimeMs: 1 } })).status).toBe(403);
      expect((await ctl.api('POST', '/api/v1/agents/ghost/heartbeat', { token: other, body: { version: '1', uptimeMs: 1 } })).status).toBe(404);
      const bad = await ctl.api('POST', '/api/v1/agents/probe-a/heartbeat', { token: agentToken, body: { version: '1', uptimeMs: -5 } });
      expect(bad.status).toBe(400);
      expect(bad.body.details).toContainEqual({ field: 'uptimeMs', reason: 'must not be less than 0' });
      const huge = await ctl.api('POST', '/api/v1/agents/probe-a/heartbeat', { token: agentToken, body: { version: '1', uptimeMs: Number.MAX_SAFE_INTEGER } });
      expect(huge.status).toBe(400);
      expect((await ctl.api('POST', '/api/v1/agents/register', { token: agentToken, body: { name: 'has space', zone: 'z', version: '1' } })).status).toBe(400);
      const badName = await ctl.api('POST', '/api/v1/agents/has%20space/heartbeat', { token: agentToken, body: { version: '1', uptimeMs: 1 } });
      expect(badName.body.details).toEqual([{ field: 'name', reason: 'must be an agent name' }]);
    });
  });

  describe('operability', () => {
    it('serves liveness, readiness and Prometheus metrics without a token', async () => {
      expect((await ctl.api('GET', '/health/live', { token: null })).body).toEqual({ status: 'ok' });
      const ready = await ctl.api('GET', '/health/ready', { token: null });
      expect(ready.status).toBe(200);
      expect(ready.body.checks).toEqual({ postgres: { status: 'up' } });
      const metrics = await ctl.api('GET', '/metrics', { token: null });
      expect(metrics.headers.get('content-type')).toMatch(/text\/plain/);
      expect(metrics.text).toMatch(/^vigil_clusters\{controller="test-controller"\} 1$/m);
      expect(metrics.text).toMatch(/^vigil_agents\{state="active",controller="test-controller"\} 1$/m);
      expect(metrics.text).toMatch(/vigil_http_requests_total\{method="GET",route="\/api\/v1\/clusters",status="200"/);
      expect(metrics.text).toMatch(/vigil_process_resident_memory_bytes/);
    });

    it('echoes a request id for correlation', async () => {
      const res = await ctl.api('GET', '/health/live', { token: null, headers: { 'x-request-id': 'abc-123' } });
      expect(res.headers.get('x-request-id')).toBe('abc-123');
    });

    it('records when each role was last read from its node', async () => {
      const view = (await ctl.api('GET', '/api/v1/clusters/orders')).body;
      for (const node of view.nodes) expect(Date.parse(node.roleCheckedAt)).toBeGreaterThan(Date.parse(view.createdAt) - 1);
      expect(view.nodes.filter((n: { role: string }) => n.role === 'master')).toHaveLength(1);
    });
  });
});
