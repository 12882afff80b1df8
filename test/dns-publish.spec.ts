import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BindServer, startBind } from '../libs/testing/src/bind.js';
import { type RedisServer, startReplicationGroup, waitFor } from '../libs/testing/src/index.js';
import { type Api, freshDatabase, startTestController, type TestController } from './support/controller.js';

const ZONE = 'ext.test.';
const SECRET = randomBytes(32).toString('base64');

interface Step {
  name: string;
  status: string;
  detail: Record<string, unknown>;
}

async function masterRecorded(api: Api, cluster: string): Promise<{ host: string; port: number; epoch: number }> {
  return waitFor(
    async () => {
      const r = await api('GET', `/api/v1/clusters/${cluster}/master`);
      return r.status === 200 ? r.body : undefined;
    },
    10_000,
    `a master recorded for ${cluster}`,
  );
}

/** The failover's DNS steps once `count` of them have an outcome other than a retryable failure. */
async function dnsSteps(api: Api, failoverId: string, count: number): Promise<Step[]> {
  return waitFor(
    async () => {
      const steps = ((await api('GET', `/api/v1/failovers/${failoverId}`)).body.steps as Step[]).filter((s) => s.name === 'dns_published');
      const final = steps.filter((s) => s.status !== 'failed' || s.detail['willRetry'] === false);
      return final.length >= count ? steps : undefined;
    },
    15_000,
    `${count} DNS publication outcomes`,
  );
}

/**
 * RFC 2136 publication of a new master to a real BIND9, signed with TSIG, as failover steps.
 */
describe('external DNS updates (RFC 2136 + TSIG) on failover', () => {
  let bind: BindServer;
  const controllers: TestController[] = [];
  const servers: RedisServer[] = [];

  async function setup(name: string, key: string, extra: Record<string, string> = {}) {
    const controller = await startTestController(await freshDatabase(), {
      DNS_UPDATE_SERVER: `127.0.0.1:${bind.port}`,
      DNS_UPDATE_ZONE: ZONE,
      DNS_UPDATE_KEY: `hmac-sha256:vigil-key:${key}`,
      DNS_TTL: '7',
      ...extra,
    });
    controllers.push(controller);
    await waitFor(async () => (await controller.api('GET', '/api/v1/leadership')).body.leader === true, 10_000, 'leadership');
    const group = await startReplicationGroup(1);
    servers.push(...group);
    const res = await controller.api('POST', '/api/v1/clusters', {
      body: { name, nodes: group.map((s) => ({ host: s.host, port: s.port })), quorum: 2, downAfterMs: 1000, autoFailover: false },
    });
    expect(res.status).toBe(201);
    const master = await masterRecorded(controller.api, name);
    return { api: controller.api, group, master };
  }

  beforeAll(async () => {
    bind = await startBind({ zone: ZONE, keys: [{ name: 'vigil-key', secret: SECRET }] });
  }, 30_000);

  afterAll(async () => {
    for (const c of controllers) await c.close();
    await Promise.all(servers.map((s) => s.stop()));
    await bind?.stop();
  });

  it('a failover rewrites A and SRV on the server with a compare-and-swap on the old master, and records each publication as a step', async () => {
    const { api, group, master } = await setup('orders', SECRET);
    const other = group.find((s) => s.port !== master.port)!;
    // The zone holds the current master, as a previous publication would have left it.
    await bind.addRecords([`orders.${ZONE} 60 IN A 127.0.0.1`, `_redis._tcp.orders.${ZONE} 60 IN SRV 0 0 ${master.port} orders.${ZONE}`]);

    const res = await api('POST', '/api/v1/clusters/orders/failover', { body: {} });
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe('succeeded');
    await waitFor(async () => (await bind.dig(`_redis._tcp.orders.${ZONE}`, 'SRV')).join() === `0 0 ${other.port} orders.${ZONE}`, 10_000, 'the SRV record');
    expect(await bind.dig(`orders.${ZONE}`, 'A')).toEqual(['127.0.0.1']);

    const steps = await dnsSteps(api, res.body.id, 2);
    const ok = steps.filter((s) => s.status === 'succeeded');
    expect(ok.map((s) => s.detail['type']).sort()).toEqual(['A', 'SRV']);
    expect(ok.find((s) => s.detail['type'] === 'SRV')!.detail).toMatchObject({ name: `_redis._tcp.orders.${ZONE}`, value: `0 0 ${other.port} orders.${ZONE}` });
    const ttl = await bind.digFull(`_redis._tcp.orders.${ZONE}`, 'SRV');
    expect(ttl).toMatch(/\s7\s+IN\s+SRV/);

    // A record someone else changed meanwhile is not overwritten by a stale publication: the
    // cluster moves on (a switchover back) while the server holds an unexpected value.
    await bind.addRecords([`_redis._tcp.orders.${ZONE} 60 IN SRV 0 0 1 elsewhere.${ZONE}`], true);
    const back = await api('POST', '/api/v1/clusters/orders/failover', { body: { target: `127.0.0.1:${master.port}` } });
    expect(back.body.outcome).toBe('succeeded');
    const steps2 = await dnsSteps(api, back.body.id, 2);
    // The leader at the current epoch replaces what it read, still as a compare-and-swap.
    expect(steps2.find((s) => s.detail['type'] === 'SRV' && s.status === 'succeeded')!.detail).toMatchObject({
      replaced: [`0 0 1 elsewhere.${ZONE}`],
    });
    expect(await bind.dig(`_redis._tcp.orders.${ZONE}`, 'SRV')).toEqual([`0 0 ${master.port} orders.${ZONE}`]);
  }, 60_000);

  it('a wrong TSIG key is refused by the server (NOTAUTH) and surfaced as a failed step; nothing changes', async () => {
    const wrong = randomBytes(32).toString('base64');
    const { api } = await setup('billing', wrong);
    await bind.addRecords([`billing.${ZONE} 60 IN A 127.0.0.9`]);
    const res = await api('POST', '/api/v1/clusters/billing/failover', { body: {} });
    expect(res.body.outcome).toBe('succeeded');
    const steps = await dnsSteps(api, res.body.id, 2);
    for (const s of steps) {
      expect(s.status).toBe('failed');
      expect(s.detail).toMatchObject({ rcode: 'NOTAUTH', tsigError: 'BADSIG', willRetry: false });
    }
    expect(await bind.dig(`billing.${ZONE}`, 'A')).toEqual(['127.0.0.9']);
  }, 60_000);
});
