import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startReplicationGroup, waitFor } from '../libs/testing/src/index.js';
import { type Api, freshDatabase, startTestController, type TestController } from './support/controller.js';
import { type AgentProcess, health, startAgentProcess, waitAllUp } from './support/detection-rig.js';

const REPORTS = '/api/v1/agents/:name/reports';

/** Report requests a controller answered with `status`, from its own metrics. */
async function reportAnswers(url: string, status: number): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('vigil_http_requests_total{') && l.includes(`route="${REPORTS}"`) && l.includes(`status="${status}"`));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** The replica's replication reading as each agent reported it to this controller. */
async function replicaReadings(api: Api, cluster: string): Promise<Record<string, { lastIoS?: number } | undefined>> {
  const h = await health(api, cluster);
  const replica = h.nodes.find((n) => n.role === 'replica')!;
  return Object.fromEntries(replica.agents.map((a) => [a.name, (a as unknown as { replication?: { lastIoS?: number } }).replication]));
}

/**
 * Agents and controllers of different releases, in either order. `AGENT_REPORT_FIELDS=none` makes a
 * controller behave as a release before the negotiation: it advertises no optional report field and its
 * strict validator refuses `repl.lastIoS` as unknown, exactly as release 0.1.0 did.
 */
describe('agent/controller version skew: report fields are negotiated per controller', () => {
  let older: TestController;
  let newer: TestController;
  let agent: AgentProcess;
  let servers: RedisServer[] = [];
  let token: string;

  beforeAll(async () => {
    const db = await freshDatabase();
    older = await startTestController(db, { CONTROLLER_NAME: 'older', AGENT_REPORT_FIELDS: 'none', AGENT_STALE_AFTER_MS: '1000' });
    newer = await startTestController(db, { CONTROLLER_NAME: 'newer', AGENT_STALE_AFTER_MS: '1000' });
    servers = await startReplicationGroup(1);
    const created = await newer.api('POST', '/api/v1/clusters', {
      body: { name: 'skew', nodes: servers.map((s) => ({ host: s.host, port: s.port })), quorum: 1, downAfterMs: 1000 },
    });
    expect(created.status).toBe(201);
    token = (await newer.api('POST', '/api/v1/tokens', { body: { name: 'probes', role: 'agent' } })).body.token;
    agent = startAgentProcess('probe-new', 'zone-a', token, `${older.url},${newer.url}`, { PROBE_INTERVAL_MS: '100' });
  }, 60_000);

  afterAll(async () => {
    await agent?.process.stop();
    await older?.close();
    await newer?.close();
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('a new agent sends lastIoS only to the controller that lists it; the older one gets the baseline and refuses nothing', async () => {
    await waitAllUp(newer.api, 'skew', 1);
    await waitAllUp(older.api, 'skew', 1);
    await waitFor(async () => typeof (await replicaReadings(newer.api, 'skew'))['probe-new']?.lastIoS === 'number', 10_000, 'lastIoS on the newer controller');
    // From here on the agent sends lastIoS on one link: let the older controller take another 10 reports.
    const before = await reportAnswers(older.url, 200);
    await waitFor(async () => (await reportAnswers(older.url, 200)) >= before + 10, 10_000, 'ten more reports on the older controller');
    expect(await reportAnswers(older.url, 400)).toBe(0);
    expect(await reportAnswers(newer.url, 400)).toBe(0);
    const onOlder = (await replicaReadings(older.api, 'skew'))['probe-new'];
    expect(onOlder).toMatchObject({ role: 'replica' });
    expect(onOlder?.lastIoS).toBeUndefined();
    expect((await health(older.api, 'skew')).nodes.every((n) => n.state === 'up' && n.voters === 1)).toBe(true);
    expect(agent.process.output()).not.toMatch(/report not accepted/);
  });

  it('an older agent (baseline report, ignores reportFields) is accepted by the newer controller, which still refuses unknown fields', async () => {
    const call = (api: Api, path: string, body: unknown) => api('POST', `/api/v1/agents${path}`, { token, body });
    expect((await call(newer.api, '/register', { name: 'probe-old', zone: 'zone-b', version: '0.1.0' })).status).toBe(200);
    const nodes = (await newer.api('GET', '/api/v1/agents/probe-old/assignment', { token })).body.clusters[0].nodes as { id: string; port: number }[];
    const [masterId, replicaId] = servers.map((s) => nodes.find((n) => n.port === s.port)!.id);
    const baseline = (seq: number, extra: Record<string, unknown> = {}) => ({
      seq,
      assignment: 'whatever',
      intervalMs: 100,
      lagMs: 0,
      nodes: [
        { id: masterId, st: 'ok', ago: 5, lat: 0.3, repl: { role: 'master', offset: 10, replicas: 1, ageMs: 5 } },
        { id: replicaId, st: 'ok', ago: 5, lat: 0.3, repl: { role: 'replica', offset: 10, masterHost: '127.0.0.1', linkUp: true, ageMs: 5, ...extra } },
      ],
    });
    for (const api of [newer.api, older.api]) {
      const ok = await call(api, '/probe-old/reports', baseline(1));
      expect(ok.status).toBe(200);
      expect(ok.body.reportFields).toEqual(api === newer.api ? ['repl.lastIoS'] : []);
    }
    expect((await replicaReadings(newer.api, 'skew'))['probe-old']).toMatchObject({ role: 'replica', linkUp: true });
    // The older controller is as strict as release 0.1.0: lastIoS is an unknown field there, refused whole.
    const refused = await call(older.api, '/probe-old/reports', baseline(2, { lastIoS: 0 }));
    expect(refused.status).toBe(400);
    expect(refused.body.details).toEqual([{ field: 'nodes[1].repl.lastIoS', reason: 'is not a known field' }]);
    // The newer one accepts it but nothing it does not list.
    expect((await call(newer.api, '/probe-old/reports', baseline(3, { lastIoS: 0 }))).status).toBe(200);
    const unknown = await call(newer.api, '/probe-old/reports', baseline(4, { lastIoS: 0, future: 1 }));
    expect(unknown.status).toBe(400);
    expect(unknown.body.details).toEqual([{ field: 'nodes[1].repl.future', reason: 'is not a known field' }]);
  });
});
