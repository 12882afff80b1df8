import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsResponderService } from '../apps/controller/src/dns/dns-responder.service.js';
import { SentinelService } from '../apps/controller/src/sentinel/sentinel.service.js';
import { type BindServer, freePort, type RedisServer, startBind, startRedis, startReplicationGroup, waitFor } from '../libs/testing/src/index.js';
import { freshDatabase, startTestController, type TestController } from './support/controller.js';
import { type AgentProcess, createWatchedCluster, type EventItem, health, startAgentProcess, waitForEvent } from './support/detection-rig.js';

const run = promisify(execFile);
/** Milliseconds from the fault seen to the new master published. */
const toPublished = (done: EventItem) => Date.parse(done.data.phases.published) - Date.parse(done.data.phases.faultSeen);
const DOWN_AFTER_MS = 1000;
const ZONE = 'vigil.test.';
const EXT_ZONE = 'ext.test.';
const SECRET = randomBytes(32).toString('base64');

interface Hooked {
  type: string;
  cluster: string | null;
  data: { to?: string };
}

/**
 * The control plane's own Redis (`REDIS_URL`, the BullMQ backend) goes away — refused (SIGKILL) or hung
 * (SIGSTOP) — and a managed master crashes meanwhile. Detection and failover use only PostgreSQL and the
 * Redis nodes, so the failover completes in the same time and is published at once (REST, Sentinel,
 * built-in DNS); the side effects that go through a queue (RFC 2136 update, webhook deliveries,
 * re-pointing a replica that was away) are kept in PostgreSQL and happen when the backend returns,
 * even across a controller restart.
 */
describe("the control plane's own Redis goes away during a failover", () => {
  let bind: BindServer;
  let queueRedis: RedisServer;
  let receiver: Server;
  let dbUrl: string;
  let httpPort: number;
  let controller: TestController;
  const hooked: Hooked[] = [];
  const agents: AgentProcess[] = [];
  const servers: RedisServer[] = [];
  const baseline: Record<string, number> = {};

  const api: TestController['api'] = (...args) => controller.api(...args);
  const env = () => ({
    HTTP_PORT: String(httpPort),
    REDIS_URL: `redis://127.0.0.1:${queueRedis.port}/0`,
    SENTINEL_PORT: '0',
    SENTINEL_ANNOUNCE_IP: '127.0.0.1',
    DNS_PORT: '0',
    DNS_ZONE: ZONE,
    PUBLISH_HOST: '127.0.0.1',
    DNS_UPDATE_SERVER: `127.0.0.1:${bind.port}`,
    DNS_UPDATE_ZONE: EXT_ZONE,
    DNS_UPDATE_KEY: `hmac-sha256:vigil-key:${SECRET}`,
    AGENT_STALE_AFTER_MS: '1000',
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_RETRY_BASE_MS: '100',
  });
  const startController = async () => {
    controller = await startTestController(dbUrl, env());
    await waitFor(async () => (await api('GET', '/api/v1/leadership')).body.leader === true, 10_000, 'the controller to lead');
  };
  const metric = async (name: string): Promise<number> => {
    const text = await (await fetch(`${controller.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return line ? Number(line.split(' ').pop()) : NaN;
  };
  const sumOf = async (name: string): Promise<number> => {
    const text = await (await fetch(`${controller.url}/metrics`)).text();
    return text
      .split('\n')
      .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
      .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
  };
  const globalEvents = async (type: string): Promise<EventItem[]> => (await api('GET', `/api/v1/events?type=${type}&limit=500`)).body.items;

  beforeAll(async () => {
    [bind, queueRedis] = await Promise.all([startBind({ zone: EXT_ZONE, keys: [{ name: 'vigil-key', secret: SECRET }] }), startRedis()]);
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        hooked.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Hooked);
        res.writeHead(200).end();
      });
    });
    const hookPort = await freePort();
    await new Promise<void>((resolve) => receiver.listen(hookPort, '127.0.0.1', resolve));
    dbUrl = await freshDatabase();
    httpPort = await freePort();
    await startController();
    const token = (await api('POST', '/api/v1/tokens', { body: { name: 'probes', role: 'agent' } })).body.token;
    for (const z of ['a', 'b', 'c']) agents.push(startAgentProcess(`probe-${z}`, `zone-${z}`, token, controller.url, { PROBE_INTERVAL_MS: '100' }));
    const hook = await api('POST', '/api/v1/webhooks', { body: { url: `http://127.0.0.1:${hookPort}/hook`, cluster: null, types: ['master.changed'] } });
    expect(hook.status).toBe(201);
  }, 60_000);

  afterAll(async () => {
    queueRedis?.signal('SIGCONT');
    await Promise.all(agents.map((a) => a.process.stop()));
    await controller?.close();
    await Promise.all(servers.map((s) => s.stop()));
    await new Promise((resolve) => receiver?.close(resolve));
    await queueRedis?.stop();
    await bind?.stop();
  });

  /**
   * A three-node group whose second replica is down when the master crashes (so it comes back later
   * following the old master: a queued re-pointing); answers the failover's event and the nodes.
   */
  async function crashMaster(name: string) {
    const group = await startReplicationGroup(2);
    servers.push(...group);
    const [master, preferred, straggler] = group as [RedisServer, RedisServer, RedisServer];
    await bind.addRecords([`${name}.${EXT_ZONE} 60 IN A 127.0.0.1`, `_redis._tcp.${name}.${EXT_ZONE} 60 IN SRV 0 0 ${master.port} ${name}.${EXT_ZONE}`]);
    await createWatchedCluster(
      api,
      name,
      [
        { host: master.host, port: master.port },
        { host: preferred.host, port: preferred.port, priority: 10 },
        { host: straggler.host, port: straggler.port, priority: 50 },
      ],
      DOWN_AFTER_MS,
    );
    straggler.signal('SIGKILL');
    await waitFor(
      async () => (await health(api, name)).nodes.find((n) => n.port === straggler.port)?.state !== 'up',
      10_000,
      `the straggler of ${name} seen down`,
      50,
    );
    master.signal('SIGKILL');
    const done = await waitForEvent(api, name, 'failover.succeeded', 15_000);
    expect(done.data).toMatchObject({ from: `127.0.0.1:${master.port}`, to: `127.0.0.1:${preferred.port}` });
    return { master, preferred, straggler, done };
  }

  /** Every publisher of this replica answers the new master. */
  async function published(name: string, port: number): Promise<void> {
    expect((await api('GET', `/api/v1/clusters/${name}/master`)).body).toMatchObject({ host: '127.0.0.1', port });
    const sentinel = controller.app.get(SentinelService).port;
    const { stdout } = await run('redis-cli', ['-p', String(sentinel), 'SENTINEL', 'get-master-addr-by-name', name]);
    expect(stdout.trim().split('\n')).toEqual(['127.0.0.1', String(port)]);
    const dns = controller.app.get(DnsResponderService).port;
    const srv = await run('dig', ['@127.0.0.1', '-p', String(dns), `_redis._tcp.${name}.${ZONE}`, 'SRV', '+short', '+time=2', '+tries=1']);
    expect(srv.stdout.trim()).toBe(`0 0 ${port} ${name}.${ZONE}`);
  }

  /** The queued side effects of the failover have happened: RFC 2136 record, webhook, the straggler re-pointed. */
  async function sideEffectsDone(name: string, preferred: RedisServer, straggler: RedisServer, oldMaster: RedisServer, timeoutMs: number) {
    const back = await startRedis({ port: straggler.port, replicaOf: { host: oldMaster.host, port: oldMaster.port } });
    servers.push(back);
    const started = Date.now();
    await waitFor(
      async () => (await bind.dig(`_redis._tcp.${name}.${EXT_ZONE}`, 'SRV')).join() === `0 0 ${preferred.port} ${name}.${EXT_ZONE}`,
      timeoutMs,
      `the RFC 2136 update of ${name}`,
      100,
    );
    await waitFor(async () => hooked.some((h) => h.type === 'master.changed' && h.cluster === name), timeoutMs, `the webhook delivery for ${name}`, 100);
    const repointed = await waitForEvent(api, name, 'node.repointed', timeoutMs);
    expect(repointed.data).toMatchObject({ node: `127.0.0.1:${straggler.port}`, master: `127.0.0.1:${preferred.port}` });
    expect((await back.role()).slice(0, 3)).toEqual(['slave', '127.0.0.1', preferred.port]);
    return Date.now() - started;
  }

  it('baseline: with the queue backend up, failover and its queued side effects', async () => {
    const { master, preferred, straggler, done } = await crashMaster('calm');
    Object.assign(baseline, done.data.durationsMs, { toPublished: toPublished(done) });
    await published('calm', preferred.port);
    const caughtUp = await sideEffectsDone('calm', preferred, straggler, master, 15_000);
    console.log(`baseline: failover ${JSON.stringify(baseline)}; side effects ${caughtUp} ms`);
    expect(await metric('vigil_jobs_backend_up')).toBe(1);
    expect((await api('GET', '/health/ready', { token: null })).body.checks.redis).toEqual({ status: 'up' });
  });

  it('refused (SIGKILL): the failover is as fast and published; the side effects wait in PostgreSQL, survive a controller restart, and run when Redis is back', async () => {
    const port = queueRedis.port;
    queueRedis.signal('SIGKILL');
    const down = await waitFor(async () => (await globalEvents('jobs.backend_unavailable')).at(-1), 10_000, 'jobs.backend_unavailable');
    expect(down.data).toMatchObject({ backend: 'redis', controller: 'test-controller' });
    expect(await metric('vigil_jobs_backend_up')).toBe(0);

    const { master, preferred, straggler, done } = await crashMaster('refused');
    expect(toPublished(done)).toBeLessThan(baseline['toPublished']! + 1000);
    expect(done.data.durationsMs.total).toBeLessThan(baseline['total']! + 1000);
    await published('refused', preferred.port);
    // Ready all the same: the controller serves, decides and publishes without its queue backend.
    const ready = await api('GET', '/health/ready', { token: null });
    expect(ready.status).toBe(200);
    expect(ready.body.checks.redis.status).toBe('down');
    await waitFor(async () => (await sumOf('vigil_jobs_deferred_total')) >= 2, 5000, 'the DNS updates deferred');

    // A controller restart while Redis is still away loses nothing: the deferred jobs are in PostgreSQL.
    const closing = Date.now();
    await controller.close();
    // Shutting down does not wait for a backend that is away.
    expect(Date.now() - closing).toBeLessThan(5000);
    await startController();
    // The restarted replica has seen Redis away too (synchronised on that fact, not on time), so its
    // return is news to it as well.
    await waitFor(async () => (await metric('vigil_jobs_backend_up')) === 0, 10_000, 'the restarted controller sees its job backend down');
    await published('refused', preferred.port);
    expect(hooked.some((h) => h.cluster === 'refused')).toBe(false);

    queueRedis = await startRedis({ port });
    const caughtUp = await sideEffectsDone('refused', preferred, straggler, master, 20_000);
    const up = await waitFor(async () => (await globalEvents('jobs.backend_restored')).at(-1), 10_000, 'jobs.backend_restored');
    expect(up.data).toMatchObject({ backend: 'redis' });
    expect(await metric('vigil_jobs_backend_up')).toBe(1);
    expect(await metric('vigil_jobs_outbox_pending')).toBe(0);
    console.log(
      `refused: failover ${JSON.stringify(done.data.durationsMs)} vs baseline ${JSON.stringify(baseline)}; caught up ${caughtUp} ms after Redis returned`,
    );
  });

  it('hung (SIGSTOP): the failover is as fast and published; the side effects run when Redis wakes', async () => {
    const before = (await globalEvents('jobs.backend_unavailable')).length;
    queueRedis.signal('SIGSTOP');
    try {
      await waitFor(async () => (await globalEvents('jobs.backend_unavailable')).length > before, 10_000, 'jobs.backend_unavailable (hung)');
      const { master, preferred, straggler, done } = await crashMaster('hung');
      expect(toPublished(done)).toBeLessThan(baseline['toPublished']! + 1000);
      expect(done.data.durationsMs.total).toBeLessThan(baseline['total']! + 1000);
      await published('hung', preferred.port);
      expect((await api('GET', '/health/ready', { token: null })).status).toBe(200);
      // Creating a cluster whose node does not answer queues a discovery retry: that is deferred too,
      // and the request is answered instead of waiting on the hung backend.
      const deferredBefore = await sumOf('vigil_jobs_deferred_total');
      const asked = Date.now();
      const created = await api('POST', '/api/v1/clusters', {
        body: { name: 'created-while-hung', quorum: 1, downAfterMs: 1000, nodes: [{ host: '192.0.2.1', port: 6379 }] },
      });
      expect(created.status, created.text).toBe(201);
      expect(Date.now() - asked).toBeLessThan(5000);
      expect(await sumOf('vigil_jobs_deferred_total')).toBeGreaterThan(deferredBefore);
      queueRedis.signal('SIGCONT');
      const caughtUp = await sideEffectsDone('hung', preferred, straggler, master, 20_000);
      console.log(`hung: failover ${JSON.stringify(done.data.durationsMs)}; caught up ${caughtUp} ms after Redis woke`);
    } finally {
      queueRedis.signal('SIGCONT');
    }
  });
});
