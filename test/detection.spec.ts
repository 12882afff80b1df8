import { connect } from 'node:net';
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  makeTestCertificates,
  type RedisServer,
  startRedis,
  startReplicationGroup,
  startTcpProxy,
  type TcpProxy,
  type TestCertificates,
  waitFor,
} from '../libs/testing/src/index.js';
import { HANDSHAKE_PENDING } from '../apps/probe-agent/src/node-probe.js';
import { type Api, freshDatabase, startTestController, type TestController } from './support/controller.js';
import { type AgentProcess, events, health, sleep, startAgentProcess, waitAllUp, waitForEvent } from './support/detection-rig.js';

const DOWN_AFTER_MS = 1000;
const PROBE_INTERVAL_MS = 100;
const REPORT_LIMIT_BYTES = 262_144;

/**
 * Detection end to end with real parts: redis-server processes, Postgres, the controller, and three
 * probe agents as processes in three zones. Agent probe-a reaches one master through a TCP proxy the
 * test can cut, which partitions that agent (and only it) from that master.
 */
describe('failure detection with three probe agents', () => {
  let dbUrl: string;
  let port: number;
  let controller: TestController;
  let api: Api;
  let agentToken: string;
  const agents: AgentProcess[] = [];
  const servers: RedisServer[] = [];
  let proxy: TcpProxy;
  let partitioned: RedisServer[];
  let certs: TestCertificates;
  let agentHttpPort: number;
  const killed = new Set<number>();

  const controllerEnv = () => ({
    HTTP_PORT: String(port),
    AGENT_HEARTBEAT_INTERVAL_MS: '200',
    AGENT_STALE_AFTER_MS: '1000',
    AGENT_REPORT_LIMIT_BYTES: String(REPORT_LIMIT_BYTES),
  });

  async function group(replicas: number): Promise<RedisServer[]> {
    const g = await startReplicationGroup(replicas);
    servers.push(...g);
    return g;
  }

  async function createCluster(name: string, nodes: { host: string; port: number }[], extra: Record<string, unknown> = {}): Promise<void> {
    const res = await api('POST', '/api/v1/clusters', {
      body: { name, nodes: nodes.map(({ host, port }) => ({ host, port })), quorum: 2, downAfterMs: DOWN_AFTER_MS, ...extra },
    });
    if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${res.text}`);
  }

  function kill(server: RedisServer): number {
    killed.add(server.port);
    server.signal('SIGKILL');
    return Date.now();
  }

  beforeAll(async () => {
    dbUrl = await freshDatabase();
    port = await freePort();
    controller = await startTestController(dbUrl, controllerEnv());
    api = controller.api;
    agentToken = (await api('POST', '/api/v1/tokens', { body: { name: 'probes', role: 'agent' } })).body.token;
    partitioned = await group(2);
    proxy = await startTcpProxy({ host: partitioned[0]!.host, port: partitioned[0]!.port });
    const url = controller.url;
    certs = makeTestCertificates();
    // The agents trust the test CA the way an operator would have them trust a private one.
    const env = { PROBE_INTERVAL_MS: String(PROBE_INTERVAL_MS), NODE_EXTRA_CA_CERTS: certs.caFile };
    agents.push(
      startAgentProcess('probe-a', 'zone-a', agentToken, url, { ...env, VIGIL_AGENT_ADDRESS_MAP: `127.0.0.1:${partitioned[0]!.port}=127.0.0.1:${proxy.port}` }),
      startAgentProcess('probe-b', 'zone-b', agentToken, url, env),
      startAgentProcess('probe-c', 'zone-c', agentToken, url, {
        ...env,
        AGENT_HTTP_PORT: String((agentHttpPort = await freePort())),
        AGENT_HTTP_HOST: '127.0.0.1',
      }),
    );
    await createCluster('partition', partitioned);
    await waitAllUp(api, 'partition', 3);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.process.stop()));
    await controller?.close();
    await proxy?.close();
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('declares a SIGKILLed master ODOWN with at least quorum votes, and a killed replica too', async () => {
    const [master, replica1, replica2] = await group(2);
    await createCluster('crash', [master!, replica1!, replica2!]);
    await waitAllUp(api, 'crash', 3);

    const killedAt = kill(master!);
    const odown = await waitForEvent(api, 'crash', 'node.odown', 10_000);
    expect(odown.data.node).toMatchObject({ host: master!.host, port: master!.port });
    expect(odown.data.sdownVotes).toBeGreaterThanOrEqual(2);
    expect(odown.data.votes.filter((v: { sdown: boolean }) => v.sdown).length).toBeGreaterThanOrEqual(2);
    expect(odown.data.votes.map((v: { zone: string }) => v.zone).sort()).toEqual(['zone-a', 'zone-b', 'zone-c']);
    // Not before down-after elapsed: the agents' own last replies date the fault.
    expect(Date.parse(odown.data.quorumReachedAt)).toBeGreaterThanOrEqual(killedAt + DOWN_AFTER_MS - 2 * PROBE_INTERVAL_MS);
    expect(Date.parse(odown.data.decidedAt)).toBeGreaterThanOrEqual(Date.parse(odown.data.quorumReachedAt));
    // Evidence from the replicas: both saw their link to the master go down.
    await waitFor(
      async () => (await health(api, 'crash')).nodes.filter((n) => n.port !== master!.port).every((n) => n.state === 'up'),
      5000,
      'replicas still up',
    );
    expect(odown.data.replicas).toHaveLength(2);

    const h = await health(api, 'crash');
    const down = h.nodes.find((n) => n.port === master!.port)!;
    expect(down.state).toBe('odown');
    expect(down.agents.every((a) => !a.ok && a.sdown && a.voting)).toBe(true);

    kill(replica2!);
    const replicaOdown = await waitForEvent(api, 'crash', 'node.odown', 10_000, (e) => e.data.node.port === replica2!.port);
    expect(replicaOdown.data.sdownVotes).toBeGreaterThanOrEqual(2);
    // The way there went through SDOWN (the first agent to see it) unless all agents crossed down-after together.
    const sdowns = await events(api, 'crash', 'node.sdown');
    for (const e of sdowns) expect(e.data.sdownVotes).toBeGreaterThanOrEqual(1);
  });

  it('sees a hung node again when it wakes, even when its clients are killed as it wakes', async () => {
    const [master, replica] = await group(1);
    await createCluster('wake', [master!, replica!], { autoFailover: false });
    await waitAllUp(api, 'wake', 3);
    master!.signal('SIGSTOP');
    // An admin command queued while it hangs runs first when it wakes and drops every client, the agents'
    // connections in the middle of their handshake included.
    const admin = connect(master!.port, master!.host);
    admin.on('error', () => undefined);
    await new Promise<void>((resolve) => admin.once('connect', () => resolve())); // the kernel accepts while the process is stopped
    admin.write('*6\r\n$6\r\nCLIENT\r\n$4\r\nKILL\r\n$4\r\nTYPE\r\n$6\r\nnormal\r\n$6\r\nSKIPME\r\n$3\r\nyes\r\n');
    const answered = new Promise<string>((resolve) => admin.once('data', (d) => resolve(String(d))));
    // Every agent has replaced its connection since (it waits in its handshake, behind the command).
    await waitFor(
      async () => (await health(api, 'wake')).nodes.find((n) => n.port === master!.port)!.agents.every((a) => (a.error ?? '').includes(HANDSHAKE_PENDING)),
      10_000,
      'every agent to wait on a new connection to the hung master',
    );
    master!.signal('SIGCONT');
    expect(await answered).toMatch(/^:\d+/);
    admin.destroy();
    await waitAllUp(api, 'wake', 3, 15_000);
  });

  it('does not declare ODOWN for a master paused for half of down-after', async () => {
    const [master, replica] = await group(1);
    await createCluster('pause', [master!, replica!]);
    await waitAllUp(api, 'pause', 3);

    master!.signal('SIGSTOP');
    await sleep(DOWN_AFTER_MS / 2);
    master!.signal('SIGCONT');
    await sleep(DOWN_AFTER_MS + 1000);

    expect(await events(api, 'pause', 'node.odown')).toEqual([]);
    const h = await health(api, 'pause');
    expect(h.nodes.every((n) => n.state === 'up')).toBe(true);
  });

  it('keeps one agent cut off from a master at SDOWN, never ODOWN', async () => {
    proxy.cut('blackhole');
    const sdown = await waitForEvent(api, 'partition', 'node.sdown', 10_000);
    expect(sdown.data.node.port).toBe(partitioned[0]!.port);
    expect(sdown.data.votes.filter((v: { sdown: boolean }) => v.sdown).map((v: { agent: string }) => v.agent)).toEqual(['probe-a']);
    await sleep(2 * DOWN_AFTER_MS);

    const h = await health(api, 'partition');
    const master = h.nodes.find((n) => n.port === partitioned[0]!.port)!;
    expect(master.state).toBe('sdown');
    expect(master.agents.find((a) => a.name === 'probe-a')).toMatchObject({ ok: false, sdown: true });
    expect(master.agents.filter((a) => a.name !== 'probe-a').every((a) => a.ok && !a.sdown)).toBe(true);
    expect(await events(api, 'partition', 'node.odown')).toEqual([]);

    proxy.restore();
    const up = await waitForEvent(api, 'partition', 'node.up', 10_000);
    expect(up.data).toMatchObject({ from: 'sdown', to: 'up' });
  });

  it('reports a node that refuses our password as a configuration fault, not as down', async () => {
    const locked = await startRedis({ password: 'the-right-one' });
    servers.push(locked);
    await createCluster('locked', [locked], { redis: { password: 'a-wrong-one' } });
    const fault = await waitForEvent(api, 'locked', 'node.config_fault', 10_000);
    expect(fault.data.votes.some((v: { st: string }) => v.st === 'auth')).toBe(true);
    await sleep(DOWN_AFTER_MS + 500);

    const node = (await health(api, 'locked')).nodes[0]!;
    expect(node.state).toBe('config-fault');
    expect(node.agents).toHaveLength(3);
    for (const a of node.agents) expect(a).toMatchObject({ status: 'auth', sdown: false });
    expect(node.agents[0]!.error).toMatch(/WRONGPASS|NOAUTH/);
    expect(await events(api, 'locked', 'node.sdown')).toEqual([]);
    expect(await events(api, 'locked', 'node.odown')).toEqual([]);
  });

  it("probes TLS nodes with the cluster's TLS setting, and calls a TLS node probed in plain text down", async () => {
    const secure = await startRedis({ tls: certs, password: 'tls-secret' });
    servers.push(secure);
    await createCluster('secure', [secure], { redis: { password: 'tls-secret', tls: true } });
    await waitAllUp(api, 'secure', 3);
    // Every agent gets PONG over TLS (a first handshake may time out under load and be retried).
    await waitFor(async () => (await health(api, 'secure')).nodes[0]!.agents.every((a) => a.status === 'ok'), 10_000, 'every agent to reach the TLS node');

    const plain = await startRedis({ tls: certs });
    servers.push(plain);
    await createCluster('not-secure', [plain], { redis: { tls: false } });
    const down = await waitForEvent(api, 'not-secure', 'node.odown', 10_000);
    expect(down.data.node.port).toBe(plain.port);
  });

  it("exposes the agents' own health and metrics, and the controller's detection metrics", async () => {
    const agentUrl = `http://127.0.0.1:${agentHttpPort}`;
    expect((await fetch(`${agentUrl}/health/live`)).status).toBe(200);
    const ready = await fetch(`${agentUrl}/health/ready`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { nodes: number }).nodes).toBeGreaterThanOrEqual(3);
    const agentMetrics = await (await fetch(`${agentUrl}/metrics`)).text();
    expect(agentMetrics).toMatch(/^vigil_agent_nodes_watched\{agent="probe-c",zone="zone-c"\} [1-9]\d*$/m);
    expect(agentMetrics).toMatch(/^vigil_agent_probe_results_total\{status="ok",agent="probe-c",zone="zone-c"\} [1-9]/m);

    const metrics = (await api('GET', '/metrics', { token: null })).text;
    expect(metrics).toMatch(/^vigil_detection_nodes\{state="odown",controller="test-controller"\} \d+$/m);
    expect(metrics).toMatch(/^vigil_detection_nodes\{state="up",controller="test-controller"\} [1-9]/m);
    expect(metrics).toMatch(/^vigil_detection_latency_seconds_count\{controller="test-controller"\} \d+$/m);
    expect(metrics).toMatch(/^vigil_agent_report_age_seconds\{agent="probe-a",zone="zone-a",controller="test-controller"\} /m);
    expect(metrics).toMatch(/^vigil_agent_report_request_seconds\{quantile="0.99",controller="test-controller"\} /m);
    expect(metrics).toMatch(/^vigil_leader\{controller="test-controller"\} 1$/m);
  });

  it('refuses bad reports whole and leaves detection state untouched', async () => {
    const rogueToken = (await api('POST', '/api/v1/tokens', { body: { name: 'rogue', role: 'agent' } })).body.token;
    expect((await api('POST', '/api/v1/agents/register', { token: rogueToken, body: { name: 'rogue', zone: 'x', version: '0' } })).status).toBe(200);
    const before = await health(api, 'partition');
    const nodeId = before.nodes[0]!.id;
    const post = (agent: string, body: unknown, token = rogueToken) => api('POST', `/api/v1/agents/${agent}/reports`, { token, body });
    const valid = { seq: 1, assignment: 'x', intervalMs: 100, nodes: [{ id: nodeId, st: 'down', ago: 999_999 }] };

    const malformed = await api('POST', '/api/v1/agents/rogue/reports', { token: rogueToken, raw: '{"seq": 1, "nodes": [' });
    expect(malformed.status).toBe(400);

    const unknown = await post('rogue', { ...valid, nodes: [...valid.nodes, { id: randomUUID(), st: 'ok', ago: 0 }] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.details).toEqual([{ field: 'nodes[1].id', reason: 'is not a node of any cluster' }]);

    const badFields = await post('rogue', { ...valid, intervalMs: 'fast', nodes: [...valid.nodes, { id: nodeId, st: 'dead', ago: -1, extra: 1 }] });
    expect(badFields.status).toBe(400);
    expect(badFields.body.details.map((d: { field: string }) => d.field)).toEqual(
      expect.arrayContaining(['intervalMs', 'nodes[1].extra', 'nodes[1].st', 'nodes[1].ago', 'nodes[1].id']),
    );

    const otherAgent = await post('probe-b', valid);
    expect(otherAgent.status).toBe(403);
    const noSuchAgent = await post('nobody', valid);
    expect(noSuchAgent.status).toBe(404);
    const viewer = (await api('POST', '/api/v1/tokens', { body: { name: 'viewer', role: 'viewer' } })).body.token;
    expect((await post('rogue', valid, viewer)).status).toBe(403);

    const huge = await postRaw(controller.url, '/api/v1/agents/rogue/reports', rogueToken, JSON.stringify({ ...valid, pad: 'x'.repeat(REPORT_LIMIT_BYTES) }));
    expect(huge).toBe(413);

    const after = await health(api, 'partition');
    expect(after.nodes.map((n) => n.agents.map((a) => a.name))).toEqual(before.nodes.map((n) => n.agents.map((a) => a.name)));
    expect(after.nodes.flatMap((n) => n.agents).some((a) => a.name === 'rogue')).toBe(false);
    expect(after.nodes.map((n) => n.state)).toEqual(before.nodes.map((n) => n.state));
    // Still serving, still detecting.
    expect((await api('GET', '/health/ready', { token: null })).status).toBe(200);
  });

  it('resumes a detection in progress across a controller restart, with no spurious ODOWN', async () => {
    const [master, replica] = await group(1);
    await createCluster('restart', [master!, replica!], { downAfterMs: 3000 });
    await waitAllUp(api, 'restart', 3);

    const killedAt = kill(master!);
    await sleep(1000);
    await controller.close();
    const restartedAt = Date.now();
    controller = await startTestController(dbUrl, controllerEnv());
    api = controller.api;

    const odown = await waitForEvent(api, 'restart', 'node.odown', 15_000);
    expect(odown.data.node.port).toBe(master!.port);
    // Dated from the agents' last replies before the kill, not from the restart.
    const reached = Date.parse(odown.data.quorumReachedAt);
    expect(reached).toBeGreaterThanOrEqual(killedAt + 3000 - 2 * PROBE_INTERVAL_MS);
    expect(reached).toBeLessThan(killedAt + 3000 + 500);
    expect(Date.parse(odown.data.decidedAt) - reached).toBeLessThan(1000);

    await sleep(1500);
    const clusters = ['crash', 'pause', 'partition', 'locked', 'restart'];
    for (const name of clusters) {
      for (const e of await events(api, name, 'node.odown')) {
        if (Date.parse(e.at) >= restartedAt) expect(killed.has(e.data.node.port), `ODOWN of ${name} ${e.data.node.port} after restart`).toBe(true);
      }
    }
    expect((await health(api, 'pause')).nodes.every((n) => n.state === 'up')).toBe(true);
  });

  it('cannot decide with fewer healthy agents than quorum, and declares no ODOWN then', async () => {
    const [master, replica] = await group(1);
    await createCluster('blind', [master!, replica!]);
    await waitAllUp(api, 'blind', 3);

    await Promise.all(agents.slice(1).map((a) => a.process.stop('SIGKILL')));
    // Four agents are assigned (the three probes and the registered, silent "rogue"): ODOWN needs 3, so the
    // cluster cannot decide as soon as the first killed agent goes stale.
    const stale = await waitForEvent(api, 'blind', 'cluster.cannot_decide', 10_000);
    expect(stale.data).toMatchObject({ quorum: 2, assignedAgents: 4, reason: expect.stringMatching(/^[12] of 4 assigned agents can vote; ODOWN needs 3$/) });
    const h = await waitFor(
      async () => {
        const now = await health(api, 'blind');
        return now.healthyAgents === 1 ? now : undefined;
      },
      10_000,
      'both killed agents stale',
    );
    expect(h).toMatchObject({ canDecide: false, healthyAgents: 1 });

    kill(master!);
    await sleep(DOWN_AFTER_MS + 1500);
    expect(await events(api, 'blind', 'node.odown')).toEqual([]);
    const node = (await health(api, 'blind')).nodes.find((n) => n.port === master!.port)!;
    expect(node.state).toBe('sdown');
    const agentEvents = (await api('GET', '/api/v1/events?type=agent.stale&limit=500')).body.items as { data: { name: string } }[];
    expect(agentEvents.map((e) => e.data.name).sort()).toEqual(expect.arrayContaining(['probe-b', 'probe-c']));
  });
});

/** Posts a raw body with node:http (fetch reports a reset when the server answers before reading it all). */
function postRaw(base: string, path: string, token: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(body);
  });
}
