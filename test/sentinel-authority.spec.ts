import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentinelService } from '../apps/controller/src/sentinel/sentinel.service.js';
import { type RedisServer, startReplicationGroup, waitFor } from '../libs/testing/src/index.js';
import { type Api, freshDatabase, startTestController, type TestController } from './support/controller.js';
import { type AgentProcess, events, startAgentProcess, waitAllUp } from './support/detection-rig.js';
import { cmd, type RawConnection, rawConnect } from './support/resp.js';

const NOPERM = '-NOPERM this command requires an operator token: AUTH <token>\r\n';

/** Sends one command and answers its reply: one line, or a two-element array (the connection is used one command at a time). */
async function ask(c: RawConnection, ...args: string[]): Promise<string> {
  const from = c.received().length;
  c.send(cmd(...args));
  const complete = (r: string) => r.endsWith('\r\n') && (r.startsWith('*2\r\n') ? r.split('\r\n').length === 6 : true);
  const text = await c.until((t) => t.length > from && complete(t.slice(from)), 30_000);
  return text.slice(from);
}

/**
 * One authority for operator actions: SENTINEL FAILOVER on the Sentinel-compatible endpoint obeys the
 * same roles and maintenance rule as the REST routes. Real controller, real redis-server group, three
 * agent processes.
 */
describe('operator actions on the Sentinel endpoint and REST obey one authority', () => {
  let controller: TestController;
  let api: Api;
  let port: number;
  let servers: RedisServer[] = [];
  const agents: AgentProcess[] = [];
  let operator: string;
  let viewer: string;

  const epoch = async () => (await api('GET', '/api/v1/clusters/orders')).body.epoch as number;
  const masterPort = async () => (await api('GET', '/api/v1/clusters/orders/master')).body.port as number;
  /** Every replica follows the recorded master with its link up (a candidate for the next failover). */
  const settled = async () => {
    const mp = await masterPort();
    await waitFor(
      async () => {
        for (const s of servers) {
          const r = await s.role();
          if (s.port === mp ? r[0] !== 'master' : r[0] !== 'slave' || r[2] !== mp || r[3] !== 'connected') return false;
        }
        return true;
      },
      15_000,
      'every replica to follow the master',
    );
    await waitAllUp(api, 'orders', 3);
  };

  beforeAll(async () => {
    controller = await startTestController(await freshDatabase(), { SENTINEL_PORT: '0', PUBLISH_HOST: '127.0.0.1', AGENT_STALE_AFTER_MS: '1000' });
    api = controller.api;
    port = controller.app.get(SentinelService).port;
    const probes = (await api('POST', '/api/v1/tokens', { body: { name: 'probes', role: 'agent' } })).body.token;
    operator = (await api('POST', '/api/v1/tokens', { body: { name: 'ops', role: 'operator' } })).body.token;
    viewer = (await api('POST', '/api/v1/tokens', { body: { name: 'dash', role: 'viewer' } })).body.token;
    for (const z of ['a', 'b', 'c']) agents.push(startAgentProcess(`probe-${z}`, `zone-${z}`, probes, controller.url, { PROBE_INTERVAL_MS: '100' }));
    await waitFor(async () => (await api('GET', '/api/v1/leadership')).body.leader === true, 10_000, 'the controller to lead');
    servers = await startReplicationGroup(2);
    const res = await api('POST', '/api/v1/clusters', {
      body: { name: 'orders', nodes: servers.map((s) => ({ host: s.host, port: s.port })), quorum: 2, downAfterMs: 1000 },
    });
    expect(res.status).toBe(201);
    await waitAllUp(api, 'orders', 3);
  }, 90_000);

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.process.stop()));
    await controller?.close();
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('refuses SENTINEL FAILOVER without credentials: the master and the epoch stay', async () => {
    const [master] = servers;
    const c = await rawConnect(port);
    try {
      // Reads keep working without credentials (no SENTINEL_PASSWORD is set).
      expect(await ask(c, 'SENTINEL', 'get-master-addr-by-name', 'orders')).toBe(
        `*2\r\n$9\r\n127.0.0.1\r\n$${String(master!.port).length}\r\n${master!.port}\r\n`,
      );
      expect(await ask(c, 'SENTINEL', 'FAILOVER', 'orders')).toBe(NOPERM);
      expect(await ask(c, 'SENTINEL', 'SET', 'orders', 'quorum', '1')).toBe(NOPERM);
      expect(await ask(c, 'SENTINEL', 'RESET', '*')).toBe(NOPERM);
    } finally {
      c.close();
    }
    expect((await master!.role())[0]).toBe('master');
    expect(await epoch()).toBe(0);
    expect(await masterPort()).toBe(master!.port);
  });

  it('refuses it with a viewer token, and records the refusal', async () => {
    const [master] = servers;
    const c = await rawConnect(port);
    try {
      expect(await ask(c, 'AUTH', viewer)).toBe('+OK\r\n');
      expect(await ask(c, 'SENTINEL', 'FAILOVER', 'orders')).toBe(NOPERM);
    } finally {
      c.close();
    }
    expect((await master!.role())[0]).toBe('master');
    expect(await epoch()).toBe(0);
    const refused = await events(api, 'orders', 'operator.refused');
    expect(refused).toEqual([
      expect.objectContaining({ actor: 'sentinel:token:dash', data: expect.objectContaining({ action: 'failover', via: 'sentinel', code: 'forbidden' }) }),
    ]);
  });

  it('refuses it in maintenance with an operator token, as REST does unless ignoreMaintenance: true', async () => {
    const [master] = servers;
    const until = new Date(Date.now() + 600_000).toISOString();
    expect((await api('PUT', '/api/v1/clusters/orders/maintenance', { token: operator, body: { until, reason: 'patching' } })).status).toBe(200);

    const c = await rawConnect(port);
    try {
      expect(await ask(c, 'AUTH', 'ops', operator)).toBe('+OK\r\n');
      expect(await ask(c, 'SENTINEL', 'FAILOVER', 'orders')).toBe(`-ERR cluster orders is in maintenance until ${until}\r\n`);
    } finally {
      c.close();
    }
    expect((await master!.role())[0]).toBe('master');
    expect(await epoch()).toBe(0);

    // REST: the same rule, with an explicit override.
    const refused = await api('POST', '/api/v1/clusters/orders/failover', { token: operator, body: {} });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: 'conflict', details: [{ field: 'ignoreMaintenance' }] });
    expect(refused.body.message).toContain(`cluster orders is in maintenance until ${until}`);
    expect((await api('POST', '/api/v1/clusters/orders/switchover', { token: operator, body: {} })).status).toBe(409);
    expect((await api('POST', '/api/v1/clusters/orders/failover', { token: operator, body: { ignoreMaintenance: 'yes' } })).body.details).toEqual([
      { field: 'ignoreMaintenance', reason: 'must be true or false' },
    ]);
    expect((await master!.role())[0]).toBe('master');
    expect(await epoch()).toBe(0);

    const forced = await api('POST', '/api/v1/clusters/orders/failover', { token: operator, body: { ignoreMaintenance: true, expectedEpoch: 0 } });
    expect(forced.status).toBe(200);
    expect(forced.body).toMatchObject({ trigger: 'manual', outcome: 'succeeded', epoch: 1, actor: 'token:ops' });
    expect((await master!.role())[0]).toBe('slave');

    const codes = (await events(api, 'orders', 'operator.refused')).map((e) => `${e.data.via}:${e.data.action}:${e.data.code}:${e.actor}`);
    expect(codes).toEqual([
      'sentinel:failover:forbidden:sentinel:token:dash',
      'sentinel:failover:maintenance:sentinel:token:ops',
      'rest:failover:maintenance:token:ops',
      'rest:switchover:maintenance:token:ops',
    ]);
    expect((await api('DELETE', '/api/v1/clusters/orders/maintenance', { token: operator })).status).toBe(200);
  });

  it('runs it for an operator token outside maintenance: the lookup answers the new master', async () => {
    await settled();
    const before = await masterPort();
    const c = await rawConnect(port);
    try {
      expect(await ask(c, 'AUTH', operator)).toBe('+OK\r\n');
      expect(await ask(c, 'SENTINEL', 'FAILOVER', 'orders')).toBe('+OK\r\n');
      const lookup = await ask(c, 'SENTINEL', 'get-master-addr-by-name', 'orders');
      const newPort = Number(/\$\d+\r\n(\d+)\r\n$/.exec(lookup)![1]);
      expect(newPort).not.toBe(before);
      expect((await servers.find((s) => s.port === newPort)!.role())[0]).toBe('master');
    } finally {
      c.close();
    }
    expect(await epoch()).toBe(2);
    const [latest] = (await api('GET', '/api/v1/clusters/orders/failovers')).body.items;
    expect(latest).toMatchObject({ trigger: 'manual', outcome: 'succeeded', epoch: 2, actor: 'sentinel:token:ops' });
  });
});
