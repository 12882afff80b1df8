import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startReplicationGroup, startTcpProxy, type TcpProxy, waitFor } from '../libs/testing/src/index.js';
import { type Api, freshDatabase, startTestController, type TestController } from './support/controller.js';
import { type AgentProcess, type ClusterHealth, events, health, startAgentProcess, waitAllUp, waitForEvent } from './support/detection-rig.js';

const DOWN_AFTER_MS = 1000;
const CLUSTER = 'minority';

interface MinorityHealth extends ClusterHealth {
  cannotDecideReason: string | null;
  assignedAgents: number;
  usableAgents: number;
}

/**
 * The ODOWN denominator end to end (PRODUCT.md §3): five real agent processes watch a healthy master;
 * three go silent (two SIGKILLed, one SIGSTOPped) and the two left lose their route to the master (a
 * blackholing TCP proxy). Two of five is a minority: never ODOWN, never a failover, and the cluster
 * says it cannot decide, and why.
 */
describe('detection with a minority of the assigned agents', () => {
  let dbUrl: string;
  let controller: TestController;
  let api: Api;
  let proxy: TcpProxy;
  let master: RedisServer;
  const servers: RedisServer[] = [];
  const agents: AgentProcess[] = [];
  const agent = (name: string) => agents.find((a) => a.name === name)!;

  const clusterHealth = async () => (await health(api, CLUSTER)) as MinorityHealth;
  const masterHealth = async () => (await clusterHealth()).nodes.find((n) => n.port === master.port)!;

  beforeAll(async () => {
    dbUrl = await freshDatabase();
    controller = await startTestController(dbUrl, { AGENT_STALE_AFTER_MS: '1000', AGENT_HEARTBEAT_INTERVAL_MS: '200' });
    api = controller.api;
    const token = (await api('POST', '/api/v1/tokens', { body: { name: 'probes', role: 'agent' } })).body.token;
    servers.push(...(await startReplicationGroup(2)));
    master = servers[0]!;
    proxy = await startTcpProxy({ host: master.host, port: master.port });
    const env = { PROBE_INTERVAL_MS: '100' };
    // probe-a and probe-b reach the master only through the proxy; the replicas and the controller reach it directly.
    const viaProxy = { ...env, VIGIL_AGENT_ADDRESS_MAP: `${master.host}:${master.port}=${proxy.host}:${proxy.port}` };
    for (const z of ['a', 'b', 'c', 'd', 'e']) {
      agents.push(startAgentProcess(`probe-${z}`, `zone-${z}`, token, controller.url, z === 'a' || z === 'b' ? viaProxy : env));
    }
    const res = await api('POST', '/api/v1/clusters', {
      body: { name: CLUSTER, nodes: servers.map(({ host, port }) => ({ host, port })), quorum: 2, downAfterMs: DOWN_AFTER_MS },
    });
    if (res.status !== 201) throw new Error(`create ${CLUSTER}: ${res.status} ${res.text}`);
    await waitFor(async () => (await api('GET', '/api/v1/leadership')).body.leader === true, 10_000, 'the controller to lead');
    await waitAllUp(api, CLUSTER, 5, 30_000);
  }, 90_000);

  afterAll(async () => {
    agent('probe-e')?.process.child.kill('SIGCONT');
    await Promise.all(agents.map((a) => a.process.stop('SIGTERM', 2000)));
    await controller?.close();
    await proxy?.close();
    await Promise.all(servers.map((s) => s.stop()));
  });

  it("follows agents' registrations into the denominator, and heartbeats do not reload the topology", async () => {
    const token = (await api('POST', '/api/v1/tokens', { body: { name: 'spare', role: 'agent' } })).body.token;
    const db = new pg.Client({ connectionString: dbUrl });
    await db.connect();
    try {
      const notified: string[] = [];
      db.on('notification', (n) => notified.push(n.payload ?? ''));
      await db.query('LISTEN vigil_topology');
      // Registered and never reporting: assigned all the same (a silent agent is a "not down" vote).
      expect((await api('POST', '/api/v1/agents/register', { token, body: { name: 'probe-z', zone: 'zone-z', version: '1' } })).status).toBe(200);
      await waitFor(async () => (await clusterHealth()).assignedAgents === 6, 5000, 'probe-z assigned');
      await waitFor(async () => notified.length > 0, 5000, 'the registration notified');
      notified.length = 0;
      // A heartbeat, then a change of what probe-z watches: notifications arrive in commit order, so a
      // heartbeat that notified would show up first.
      expect((await api('POST', '/api/v1/agents/probe-z/heartbeat', { token, body: { version: '1', uptimeMs: 1000 } })).status).toBe(200);
      await db.query(`UPDATE agents SET watch_clusters = ARRAY['elsewhere'] WHERE name = 'probe-z'`);
      await waitFor(async () => notified.length > 0, 5000, 'the watch change notified');
      expect(notified).toEqual(['agents']);
      await waitFor(async () => (await clusterHealth()).assignedAgents === 5, 5000, 'probe-z no longer assigned');

      await db.query(`UPDATE agents SET watch_clusters = ARRAY['${CLUSTER}'] WHERE name = 'probe-z'`);
      await waitFor(async () => (await clusterHealth()).assignedAgents === 6, 5000, 'probe-z assigned again');
      expect((await api('DELETE', '/api/v1/agents/probe-z')).status).toBe(204);
      // Gone from this replica's denominators before the answer.
      expect(await clusterHealth()).toMatchObject({ canDecide: true, assignedAgents: 5, usableAgents: 5, cannotDecideReason: null });
    } finally {
      await db.end();
    }
  });

  it('never declares ODOWN nor fails over when two of five agents lose the master and three are silent', async () => {
    const stoppedAt = Date.now();
    await agent('probe-c').process.stop('SIGKILL');
    await agent('probe-d').process.stop('SIGKILL');
    agent('probe-e').process.child.kill('SIGSTOP');
    await waitFor(async () => (await clusterHealth()).healthyAgents === 2, 10_000, 'three agents stale');

    const cutAt = Date.now();
    proxy.cut('blackhole');
    const sdown = await waitFor(
      async () => {
        const m = await masterHealth();
        const cut = m.agents.filter((a) => a.name === 'probe-a' || a.name === 'probe-b');
        return cut.length === 2 && cut.every((a) => a.sdown && a.voting) ? m : undefined;
      },
      10_000,
      'probe-a and probe-b to see the master SDOWN',
    );
    expect(sdown.sdownVotes).toBe(2);

    // Several down-after periods with the two votes standing: ODOWN and a failover would have come by now.
    const until = Date.now() + 4 * DOWN_AFTER_MS;
    while (Date.now() < until) {
      const m = await masterHealth();
      expect(m.state, 'the master must not go ODOWN').not.toBe('odown');
      expect(await events(api, CLUSTER, 'node.odown')).toEqual([]);
      expect(await events(api, CLUSTER, 'failover.started')).toEqual([]);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const h = await clusterHealth();
    expect(h).toMatchObject({
      canDecide: false,
      cannotDecideReason: '2 of 5 assigned agents can vote; ODOWN needs 3',
      assignedAgents: 5,
      usableAgents: 2,
      healthyAgents: 2,
    });
    expect(h.nodes.find((n) => n.port === master.port)).toMatchObject({ state: 'sdown', assigned: 5, voters: 2, sdownVotes: 2, role: 'master' });
    // (Earlier cannot_decide events date from the start: the cluster was created before the agents registered
    // and reported, so 0 of 5 could vote for a moment.)
    const cannot = await waitForEvent(api, CLUSTER, 'cluster.cannot_decide', 5000, (e) => e.data.assignedAgents === 5 && Date.parse(e.at) >= stoppedAt);
    expect(cannot.data).toMatchObject({ quorum: 2, assignedAgents: 5, usableAgents: 2, reason: '2 of 5 assigned agents can vote; ODOWN needs 3' });
    expect(await events(api, CLUSTER, 'failover.refused')).toEqual([]);
    expect((await master.role())[0]).toBe('master');
    const sdownEvent = (await events(api, CLUSTER, 'node.sdown')).find((e) => e.data.node.port === master.port && Date.parse(e.at) >= cutAt);
    expect(sdownEvent?.data).toMatchObject({ quorum: 2, assigned: 5, needed: 3 });

    // A third agent back: the cluster can decide again, and two SDOWN votes of five are still no ODOWN.
    agent('probe-e').process.child.kill('SIGCONT');
    await waitForEvent(api, CLUSTER, 'cluster.can_decide', 10_000);
    await waitFor(async () => (await masterHealth()).voters === 3, 5000, 'probe-e voting again');
    expect(await masterHealth()).toMatchObject({ state: 'sdown', sdownVotes: 2, voters: 3, assigned: 5 });
    expect(await events(api, CLUSTER, 'node.odown')).toEqual([]);
    expect(await events(api, CLUSTER, 'failover.started')).toEqual([]);
  });
});
