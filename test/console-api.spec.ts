import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BindServer, startBind } from '../libs/testing/src/bind.js';
import { type RedisServer, startReplicationGroup, waitFor } from '../libs/testing/src/index.js';
import { type Api, freshDatabase, startTestController, type TestController } from './support/controller.js';
import { type AgentProcess, createWatchedCluster, health, startAgentProcess } from './support/detection-rig.js';

const DOWN_AFTER_MS = 1000;
const ZONE = 'console.test.';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The read-only routes the web console codes against, on a real controller (with the Sentinel endpoint
 * and the DNS responder on), real redis-server processes and three real agent processes.
 */
describe('console API: whoami, overview, publication, decision now', () => {
  let controller: TestController;
  let api: Api;
  let viewer: string;
  let agentToken: string;
  let receiver: Server;
  const received: string[] = [];
  const agents: AgentProcess[] = [];
  let servers: RedisServer[] = [];

  const overviewItem = async (name: string, token?: string) => {
    const res = await api('GET', '/api/v1/overview', { token: token ?? viewer });
    expect(res.status).toBe(200);
    return { body: res.body, item: res.body.items.find((i: { name: string }) => i.name === name) };
  };

  /** Polls the overview until the cluster's item satisfies `ok`, with a deadline. */
  const waitForItem = (name: string, ok: (item: any) => boolean, what: string, timeoutMs = 15_000) =>
    waitFor(
      async () => {
        const { item } = await overviewItem(name);
        return item && ok(item) ? item : undefined;
      },
      timeoutMs,
      what,
      50,
    );

  beforeAll(async () => {
    controller = await startTestController(await freshDatabase(), {
      WEBHOOK_ALLOW_PRIVATE: 'true',
      SENTINEL_PORT: '0',
      DNS_PORT: '0',
      DNS_ZONE: ZONE,
      DNS_TTL: '4',
      PUBLISH_HOST: '127.0.0.1',
      AGENT_STALE_AFTER_MS: '1000',
      WEBHOOK_RETRY_BASE_MS: '100',
    });
    api = controller.api;
    viewer = (await api('POST', '/api/v1/tokens', { body: { name: 'console-viewer', role: 'viewer' } })).body.token;
    agentToken = (await api('POST', '/api/v1/tokens', { body: { name: 'probes', role: 'agent' } })).body.token;
    for (const z of ['a', 'b', 'c']) agents.push(startAgentProcess(`probe-${z}`, `zone-${z}`, agentToken, controller.url, { PROBE_INTERVAL_MS: '100' }));
    receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received.push(String(req.headers['x-vigil-event']));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    await waitFor(async () => (await api('GET', '/api/v1/leadership')).body.leader === true, 10_000, 'the controller to lead');
    servers = await startReplicationGroup(2);
    await createWatchedCluster(
      api,
      'shop',
      servers.map((s) => ({ host: s.host, port: s.port })),
      DOWN_AFTER_MS,
    );
  }, 90_000);

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.process.stop()));
    await controller?.close();
    await Promise.all(servers.map((s) => s.stop()));
    receiver?.close();
  });

  it('GET /whoami names the token behind the request for every role, agents included, and refuses anonymous callers', async () => {
    expect((await api('GET', '/api/v1/whoami')).body).toEqual({ tokenId: expect.stringMatching(UUID), name: 'bootstrap-admin', role: 'admin' });
    const asViewer = await api('GET', '/api/v1/whoami', { token: viewer });
    expect(asViewer.status).toBe(200);
    expect(asViewer.body).toEqual({ tokenId: expect.stringMatching(UUID), name: 'console-viewer', role: 'viewer' });
    const listed = (await api('GET', '/api/v1/tokens')).body.items.find((t: { name: string }) => t.name === 'console-viewer');
    expect(asViewer.body.tokenId).toBe(listed.id);
    expect((await api('GET', '/api/v1/whoami', { token: agentToken })).body).toMatchObject({ name: 'probes', role: 'agent' });
    const anonymous = await api('GET', '/api/v1/whoami', { token: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toBe('unauthenticated');
    expect((await api('GET', '/api/v1/whoami', { token: 'vgl_nope_nope' })).status).toBe(401);
  });

  it('agents send master_last_io_seconds_ago: /health shows lastIoS on the replicas', async () => {
    const h = await waitFor(
      async () => {
        const h = await health(api, 'shop');
        const replicas = h.nodes.filter((n) => n.role === 'replica');
        return replicas.every((n) => n.agents.some((a: any) => typeof a.replication?.lastIoS === 'number')) ? h : undefined;
      },
      10_000,
      'replica readings with lastIoS',
      50,
    );
    for (const n of h.nodes.filter((n) => n.role === 'replica')) {
      const reading = (n.agents as any[]).find((a) => a.replication)!.replication;
      expect(reading).toMatchObject({ role: 'replica', linkUp: true, lastIoS: expect.any(Number) });
      expect(reading.lastIoS).toBeGreaterThanOrEqual(0);
    }
  });

  it('GET /overview says ok for a healthy cluster, with its replicas and lag, and answers fast', async () => {
    const item = await waitForItem('shop', (i) => i.health === 'ok' && i.worstLagS !== null, 'shop ok with lag readings');
    const [master] = servers;
    expect(item).toEqual({
      name: 'shop',
      health: 'ok',
      reasons: ['master up, 2 of 2 replicas up'],
      master: `127.0.0.1:${master!.port}`,
      epoch: 0,
      replicasUp: 2,
      replicasTotal: 2,
      worstLagBytes: expect.any(Number),
      worstLagS: expect.any(Number),
      unreachableFromZones: [],
      autoFailover: true,
      maintenanceUntil: null,
      failoverInProgress: null,
      lastFailover: null,
      lastRefusal: null,
    });
    expect(item.worstLagBytes).toBeGreaterThanOrEqual(0);
    // Its speed is measured by bench:console, not here.
    const { body } = await overviewItem('shop');
    expect(body).toMatchObject({ leader: true, generatedAt: expect.any(String) });
    expect(Number.isNaN(Date.parse(body.generatedAt))).toBe(false);
    expect(body.counts).toEqual({ ok: 1, degraded: 0, 'failing-over': 0, 'master-down': 0, 'cannot-decide': 0, maintenance: 0, 'master-unreachable': 0 });
    expect((await api('GET', '/api/v1/overview', { token: null })).status).toBe(401);
    expect((await api('GET', '/api/v1/overview', { token: agentToken })).status).toBe(403);
  });

  it('GET /clusters/{name}/decision answers now: no automatic failover while the master is up, every guard listed', async () => {
    const res = await api('GET', '/api/v1/clusters/shop/decision', { token: viewer });
    expect(res.status).toBe(200);
    const { now } = res.body;
    expect(res.body).toMatchObject({ cluster: 'shop', leader: true, decision: null, faults: [] });
    expect(now.wouldFailOver).toBe(false);
    expect(now.reason).toMatch(/^the master 127\.0\.0\.1:\d+ is up: 0 of 3 assigned agents see it down \(3 voting\); ODOWN needs 2/);
    const checks = Object.fromEntries(now.checks.map((c: { name: string; passed: boolean }) => [c.name, c.passed]));
    expect(checks).toEqual({
      'master-odown': false,
      'no-failover-running': true,
      'auto-failover': true,
      maintenance: true,
      cooldown: true,
      backoff: true,
      'can-decide': true,
      leader: true,
      'safe-candidate': true,
    });
    expect((await api('GET', '/api/v1/clusters/nope/decision')).status).toBe(404);
  });

  it('GET /clusters/{name}/publication shows REST, Sentinel and DNS agreeing on the master, the event log position and the webhooks', async () => {
    const [master] = servers;
    const hook = await api('POST', '/api/v1/webhooks', {
      body: { url: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook?token=s3cret`, cluster: 'shop' },
    });
    expect(hook.status).toBe(201);
    const res = await api('GET', '/api/v1/clusters/shop/publication', { token: viewer });
    expect(res.status).toBe(200);
    const p = res.body;
    expect(p).toMatchObject({ cluster: 'shop', epoch: 0, recorded: `127.0.0.1:${master!.port}`, agree: true, disagreements: [] });
    expect(p.channels).toEqual([
      { channel: 'rest', answer: `127.0.0.1:${master!.port}`, stale: false, detail: 'epoch 0', agrees: true },
      { channel: 'sentinel', answer: `127.0.0.1:${master!.port}`, agrees: true },
      {
        channel: 'dns',
        target: `shop.${ZONE}`,
        answer: '127.0.0.1',
        ttl: 4,
        detail: `A compared with the recorded host 127.0.0.1 (an IP); SRV port ${master!.port}`,
        agrees: true,
      },
    ]);
    expect(p.lastEventId).toMatch(/^\d+$/);
    expect(p.lastClusterEventId).toMatch(/^\d+$/);
    expect(BigInt(p.lastClusterEventId)).toBeLessThanOrEqual(BigInt(p.lastEventId));
    // Viewers see the webhook's origin only: its path and query may hold a credential.
    expect(p.webhooks).toEqual([
      { id: hook.body.id, url: `http://127.0.0.1:${(receiver.address() as { port: number }).port}`, lastDelivery: null, failing: false, pending: 0, failed: 0 },
    ]);
    expect((await api('GET', '/api/v1/clusters/nope/publication')).status).toBe(404);
  });

  it('maintenance shows in the overview with its reason, in the decision and in the webhook delivery', async () => {
    const until = new Date(Date.now() + 10 * 60_000).toISOString();
    expect((await api('PUT', '/api/v1/clusters/shop/maintenance', { body: { until, reason: 'kernel upgrade' } })).status).toBe(200);
    const item = await waitForItem('shop', (i) => i.health === 'maintenance', 'shop in maintenance');
    expect(item.maintenanceUntil).toBe(until);
    expect(item.reasons).toEqual([`maintenance until ${until}: kernel upgrade`]);
    const now = (await api('GET', '/api/v1/clusters/shop/decision')).body.now;
    expect(now.checks.find((c: { name: string }) => c.name === 'maintenance')).toEqual({
      name: 'maintenance',
      passed: false,
      detail: `in maintenance until ${until}`,
    });

    const delivered = await waitFor(
      async () => {
        const w = (await api('GET', '/api/v1/clusters/shop/publication')).body.webhooks[0];
        return w?.lastDelivery?.status === 'delivered' ? w : undefined;
      },
      10_000,
      'the maintenance event delivered to the webhook',
      50,
    );
    expect(received).toContain('cluster.maintenance_started');
    expect(delivered).toMatchObject({ failing: false, lastDelivery: { eventId: expect.stringMatching(/^\d+$/), httpStatus: 204, at: expect.any(String) } });

    expect((await api('DELETE', '/api/v1/clusters/shop/maintenance')).status).toBe(200);
    await waitForItem('shop', (i) => i.health === 'ok', 'shop out of maintenance');
  });

  it('the overview says degraded once a replica process is killed', async () => {
    const [, , replica] = servers;
    replica!.signal('SIGKILL');
    const item = await waitForItem('shop', (i) => i.health === 'degraded', 'shop degraded after a replica died');
    expect(item).toMatchObject({ replicasUp: 1, replicasTotal: 2 });
    expect(item.reasons[0]).toBe('1 of 2 replicas up');
    expect(item.reasons[1]).toMatch(new RegExp(`^127\\.0\\.0\\.1:${replica!.port}: down \\((sdown|odown): `));
    const { body } = await overviewItem('shop');
    expect(body.counts).toMatchObject({ ok: 0, degraded: 1 });
  });
});

/** The RFC 2136 channel of the publication view, against a real BIND9: what Vigil last wrote, and a write that fails. */
describe('console API: publication of RFC 2136 updates', () => {
  const EXT = 'ext.test.';
  const SECRET = randomBytes(32).toString('base64');
  let bind: BindServer;
  let controller: TestController;
  let servers: RedisServer[] = [];

  beforeAll(async () => {
    bind = await startBind({ zone: EXT, keys: [{ name: 'vigil-key', secret: SECRET }] });
    controller = await startTestController(await freshDatabase(), {
      DNS_UPDATE_SERVER: `127.0.0.1:${bind.port}`,
      DNS_UPDATE_ZONE: EXT,
      DNS_UPDATE_KEY: `hmac-sha256:vigil-key:${SECRET}`,
      DNS_UPDATE_TIMEOUT_MS: '500',
    });
    await waitFor(async () => (await controller.api('GET', '/api/v1/leadership')).body.leader === true, 10_000, 'leadership');
    servers = await startReplicationGroup(1);
    const res = await controller.api('POST', '/api/v1/clusters', {
      body: { name: 'cart', nodes: servers.map((s) => ({ host: s.host, port: s.port })), quorum: 2, downAfterMs: 1000, autoFailover: false },
    });
    expect(res.status).toBe(201);
  }, 60_000);

  afterAll(async () => {
    await controller?.close();
    await Promise.all(servers.map((s) => s.stop()));
    await bind?.stop();
  });

  const dnsUpdate = async () => {
    const p = (await controller.api('GET', '/api/v1/clusters/cart/publication')).body;
    return { p, channel: p.channels.find((c: { channel: string }) => c.channel === 'dns-update') };
  };

  it('shows nothing written before a failover, the records written after one, and a disagreement when a write fails', async () => {
    const [master, replica] = servers;
    const before = await dnsUpdate();
    // Only REST besides: no Sentinel endpoint or DNS responder on this controller.
    expect(before.p.channels.map((c: { channel: string }) => c.channel)).toEqual(['rest', 'dns-update']);
    expect(before.channel).toMatchObject({ target: `cart.${EXT}`, answer: null, agrees: true });
    expect(before.p.agree).toBe(true);

    await bind.addRecords([`cart.${EXT} 60 IN A 127.0.0.1`, `_redis._tcp.cart.${EXT} 60 IN SRV 0 0 ${master!.port} cart.${EXT}`]);
    expect((await controller.api('POST', '/api/v1/clusters/cart/failover', { body: {} })).body.outcome).toBe('succeeded');
    const written = await waitFor(
      async () => {
        const d = await dnsUpdate();
        return d.channel.detail.includes(`SRV port ${replica!.port}`) ? d : undefined;
      },
      10_000,
      'the records written to BIND in the publication view',
      50,
    );
    expect(written.channel).toMatchObject({ answer: '127.0.0.1', agrees: true });
    expect(written.p).toMatchObject({ recorded: `127.0.0.1:${replica!.port}`, epoch: 1, agree: true });

    // The server goes away; a switch back cannot be written: the channel still holds the old port.
    await bind.stop();
    expect((await controller.api('POST', '/api/v1/clusters/cart/failover', { body: { target: `127.0.0.1:${master!.port}` } })).body.outcome).toBe('succeeded');
    const stale = await waitFor(
      async () => {
        const d = await dnsUpdate();
        return d.p.recorded === `127.0.0.1:${master!.port}` && /a later (A|SRV) attempt failed/.test(d.channel.detail) ? d : undefined;
      },
      10_000,
      'a failed write in the publication view',
      50,
    );
    expect(stale.channel).toMatchObject({ answer: '127.0.0.1', agrees: false });
    expect(stale.p.agree).toBe(false);
    expect(stale.p.disagreements).toEqual([
      expect.stringMatching(new RegExp(`^dns-update cart\\.ext\\.test\\. answers 127\\.0\\.0\\.1 \\(A 127\\.0\\.0\\.1 and SRV port ${replica!.port} written`)),
    ]);
  }, 60_000);
});
