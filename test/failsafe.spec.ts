import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsResponderService } from '../apps/controller/src/dns/dns-responder.service.js';
import { SentinelService } from '../apps/controller/src/sentinel/sentinel.service.js';
import { createDatabase, type PostgresServer, type RedisServer, startPostgres, startReplicationGroup, waitFor } from '../libs/testing/src/index.js';
import { type Api, startTestController, type TestController } from './support/controller.js';
import { type AgentProcess, sleep, startAgentProcess, waitAllUp } from './support/detection-rig.js';

const run = promisify(execFile);
const ZONE = 'redis.test.';
/** Without its LISTEN connection a controller vouches for a snapshot this long after loading it. */
const FRESHNESS_WINDOW_MS = 2000;

async function dig(port: number, name: string, type: string): Promise<{ status: string; answers: string[] }> {
  const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(port), name, type, '+time=2', '+tries=1', '+noall', '+comments', '+answer']);
  const status = /status: (\w+)/.exec(stdout)?.[1] ?? 'none';
  const answers = stdout
    .split('\n')
    .filter((l) => l && !l.startsWith(';'))
    .map((l) => l.split(/\s+/).slice(4).join(' '));
  return { status, answers };
}

/** The controller's `vigil_failsafe` gauge (undefined when /metrics does not answer). */
async function failsafeGauge(url: string): Promise<number | undefined> {
  const res = await fetch(`${url}/metrics`).catch(() => undefined);
  if (!res?.ok) return undefined;
  const m = /^vigil_failsafe(?:\{[^}]*\})? (\d+)$/m.exec(await res.text());
  return m ? Number(m[1]) : undefined;
}

async function allEvents(api: Api, type: string): Promise<{ at: string; type: string; actor: string; cluster: string | null; data: any }[]> {
  const res = await api('GET', `/api/v1/events?type=${type}&limit=500`);
  if (res.status !== 200) throw new Error(`events: ${res.status} ${res.text}`);
  return res.body.items;
}

/**
 * Failsafe (PRODUCT §4): the controller's own PostgreSQL goes away; the controller keeps publishing the
 * last committed master on REST (stale, with a Warning), DNS and the Sentinel endpoint while its agents see
 * that master up and master, stops publishing a master they see down, and records entering and leaving
 * once PostgreSQL is back. Real PostgreSQL (this file's own server, stopped and started again on the same
 * data directory and port), real redis-server groups, three real agent processes.
 */
describe('failsafe while PostgreSQL is unreachable', () => {
  let pg: PostgresServer | undefined;
  let dataDir: string;
  let pgPort: number;
  let controller: TestController;
  let api: Api;
  let dnsPort: number;
  let sentinel: Redis;
  const agents: AgentProcess[] = [];
  let orders: RedisServer[] = [];
  let billing: RedisServer[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-failsafe-pg-'));
    pg = await startPostgres({ dataDir });
    pgPort = pg.port;
    controller = await startTestController(await createDatabase(pg.adminUrl), {
      SENTINEL_PORT: '0',
      SENTINEL_ANNOUNCE_IP: '127.0.0.1',
      DNS_PORT: '0',
      DNS_ZONE: ZONE,
      DNS_TTL: '3',
      PUBLISH_HOST: '127.0.0.1',
      AGENT_STALE_AFTER_MS: '1000',
    });
    api = controller.api;
    dnsPort = controller.app.get(DnsResponderService).port;
    sentinel = new Redis({ port: controller.app.get(SentinelService).port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
    await sentinel.connect();
    const token = (await api('POST', '/api/v1/tokens', { body: { name: 'probes', role: 'agent' } })).body.token;
    for (const z of ['a', 'b', 'c']) agents.push(startAgentProcess(`probe-${z}`, `zone-${z}`, token, controller.url, { PROBE_INTERVAL_MS: '100' }));
    await waitFor(async () => (await api('GET', '/api/v1/leadership')).body.leader === true, 10_000, 'the controller to lead');
    orders = await startReplicationGroup(2);
    billing = await startReplicationGroup(1);
    for (const [name, group] of [
      ['orders', orders],
      ['billing', billing],
    ] as const) {
      const res = await api('POST', '/api/v1/clusters', {
        body: { name, nodes: group.map((s) => ({ host: s.host, port: s.port })), quorum: 2, downAfterMs: 1000 },
      });
      expect(res.status).toBe(201);
      await waitAllUp(api, name, 3);
    }
  }, 90_000);

  afterAll(async () => {
    sentinel?.disconnect();
    await Promise.all(agents.map((a) => a.process.stop()));
    await controller?.close();
    await Promise.all([...orders, ...billing].map((s) => s.stop()));
    await pg?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps publishing the last committed master the agents vouch for, marked stale; withdraws one they see down; records entering and leaving', async () => {
    const master = orders[0]!;
    const normal = await api('GET', '/api/v1/clusters/orders/master');
    expect(normal.status).toBe(200);
    // `stale: false` is checked at the end, so that on the code before failsafe this test fails on the 503.
    expect(normal.body).toMatchObject({ host: '127.0.0.1', port: master.port, epoch: 0, since: expect.any(String) });
    expect(normal.headers.get('warning')).toBeNull();

    const stoppedAt = Date.now();
    await pg!.stop();
    pg = undefined;
    // The fact to synchronise on: the controller says it is in failsafe. Past the freshness window, an
    // answer can only come from the failsafe (on the old code it is a 503, checked first for that reason).
    const reported = await waitFor(async () => (await failsafeGauge(controller.url)) === 1, 10_000, 'the controller to report failsafe').then(
      () => true,
      () => false,
    );
    await sleep(Math.max(0, stoppedAt + FRESHNESS_WINDOW_MS + 500 - Date.now()));

    // REST, on the fast route and on the documented Nest route (a trailing slash passes the fast route by).
    for (const path of ['/api/v1/clusters/orders/master', '/api/v1/clusters/orders/master/']) {
      const res = await api('GET', path);
      expect(res.status, `${path}: ${res.text}`).toBe(200);
      expect(res.body).toEqual({ host: '127.0.0.1', port: master.port, epoch: 0, since: normal.body.since, stale: true });
      expect(res.headers.get('warning')).toMatch(/^110 - "Response is Stale: PostgreSQL is unreachable/);
      expect(res.headers.get('etag')).not.toBe(normal.headers.get('etag'));
    }
    expect(reported).toBe(true);
    // The blocking watch still parks and answers when it times out.
    const t0 = Date.now();
    const watched = await api('GET', '/api/v1/clusters/orders/master?waitEpochAfter=0&timeoutMs=300');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(watched.status).toBe(200);
    expect(watched.body.stale).toBe(true);
    // DNS and the Sentinel endpoint give the same master.
    expect(await dig(dnsPort, `orders.${ZONE}`, 'A')).toEqual({ status: 'NOERROR', answers: ['127.0.0.1'] });
    expect((await dig(dnsPort, `_redis._tcp.orders.${ZONE}`, 'SRV')).answers).toEqual([`0 0 ${master.port} orders.${ZONE}`]);
    expect(await sentinel.call('SENTINEL', 'get-master-addr-by-name', 'orders')).toEqual(['127.0.0.1', String(master.port)]);
    expect(await failsafeGauge(controller.url)).toBe(1);

    // billing's master dies during the outage: no failover can happen, and its last committed master
    // is withdrawn everywhere once the agents see it down, while orders keeps answering.
    await billing[0]!.stop();
    await waitFor(async () => (await api('GET', '/api/v1/clusters/billing/master')).status === 503, 10_000, 'billing withdrawn');
    const withdrawn = await api('GET', '/api/v1/clusters/billing/master');
    expect(withdrawn.body.message).toMatch(/PostgreSQL is unreachable.*master down/);
    expect((await dig(dnsPort, `billing.${ZONE}`, 'A')).status).toBe('SERVFAIL');
    expect((await dig(dnsPort, `_redis._tcp.billing.${ZONE}`, 'SRV')).status).toBe('SERVFAIL');
    expect(await sentinel.call('SENTINEL', 'get-master-addr-by-name', 'billing')).toBeNull();
    expect((await api('GET', '/api/v1/clusters/orders/master')).body.stale).toBe(true);
    expect((await dig(dnsPort, `orders.${ZONE}`, 'A')).answers).toEqual(['127.0.0.1']);

    // No failover can start while PostgreSQL is away: billing's replica is still a replica.
    const replicaRole = async () => {
      const c = billing[1]!.client();
      c.on('error', () => undefined);
      await c.connect();
      try {
        return ((await c.call('ROLE')) as unknown[])[0];
      } finally {
        c.disconnect();
      }
    };
    expect(await replicaRole()).toBe('slave');

    // PostgreSQL comes back on the same data directory and port.
    const restartedAt = Date.now();
    pg = await startPostgres({ dataDir, port: pgPort });
    await waitFor(async () => (await failsafeGauge(controller.url)) === 0, 15_000, 'the controller to leave failsafe');
    const back = await api('GET', '/api/v1/clusters/orders/master');
    expect(back.status).toBe(200);
    expect(normal.body).toEqual({ host: '127.0.0.1', port: master.port, epoch: 0, since: expect.any(String), stale: false });
    expect(back.body).toEqual(normal.body);
    expect(back.headers.get('warning')).toBeNull();
    expect(back.headers.get('etag')).toBe(normal.headers.get('etag'));

    // Entering was queued while PostgreSQL was away and written with the time it happened.
    const entered = await waitFor(async () => (await allEvents(api, 'failsafe.entered'))[0], 10_000, 'failsafe.entered');
    const left = await waitFor(async () => (await allEvents(api, 'failsafe.left'))[0], 10_000, 'failsafe.left');
    const enteredAt = Date.parse(entered.data.at);
    expect(enteredAt).toBeGreaterThanOrEqual(stoppedAt);
    expect(enteredAt).toBeLessThan(restartedAt);
    expect(Date.parse(entered.at)).toBeGreaterThanOrEqual(restartedAt - 1000);
    expect(entered.actor).toBe('controller:test-controller');
    expect(entered.data.reason).toBe('postgres-unreachable');
    expect(entered.data.clusters).toEqual(
      expect.arrayContaining([
        { name: 'orders', published: true },
        { name: 'billing', published: true },
      ]),
    );
    expect(Date.parse(left.data.at)).toBeGreaterThanOrEqual(restartedAt);
    expect(left.data.enteredAt).toBe(entered.data.at);
    expect(left.data.clusters).toEqual(expect.arrayContaining(['orders', 'billing']));

    // The decision pending since the outage proceeds once PostgreSQL is back: billing fails over then.
    const done = await waitFor(
      async () => (await allEvents(api, 'failover.succeeded')).find((e) => e.cluster === 'billing'),
      20_000,
      'billing to fail over once PostgreSQL is back',
    );
    expect(done.data.to).toBe(`127.0.0.1:${billing[1]!.port}`);
    expect(Date.parse(done.data.phases.decided)).toBeGreaterThanOrEqual(restartedAt);
    expect(await replicaRole()).toBe('master');
  }, 90_000);
});
