import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis, startReplicationGroup, startTcpProxy, type TcpProxy, waitFor } from '../libs/testing/src/index.js';
import { type Api, freshDatabase, startTestController, type TestController } from './support/controller.js';
import { type AgentProcess, createWatchedCluster, events, health, startAgentProcess, waitAllUp, waitForEvent } from './support/detection-rig.js';

const DOWN_AFTER_MS = 1000;

const role = async (server: RedisServer) => (await server.role())[0];
const info = async (server: RedisServer) => String(await server.call('INFO', 'replication'));

/**
 * The decisions an automatic failover must not get wrong, each with its fault injected for real on
 * redis-server processes, three agent processes and the controller.
 */
describe('failover safety', () => {
  let controller: TestController;
  let api: Api;
  const agents: AgentProcess[] = [];
  const servers: RedisServer[] = [];
  const proxies: TcpProxy[] = [];
  let cutGroup: RedisServer[];

  const createCluster = (name: string, nodes: { host: string; port: number; priority?: number }[], extra: Record<string, unknown> = {}) =>
    createWatchedCluster(api, name, nodes, DOWN_AFTER_MS, extra);

  beforeAll(async () => {
    controller = await startTestController(await freshDatabase(), { AGENT_STALE_AFTER_MS: '1000' });
    api = controller.api;
    // Agents a and b reach this group's master through proxies the test can cut (their own route to it).
    cutGroup = await startReplicationGroup(2);
    servers.push(...cutGroup);
    const master = cutGroup[0]!;
    for (let i = 0; i < 2; i++) proxies.push(await startTcpProxy({ host: master.host, port: master.port }));
    const token = (await api('POST', '/api/v1/tokens', { body: { name: 'probes', role: 'agent' } })).body.token;
    for (const [i, z] of ['a', 'b', 'c'].entries()) {
      const map: Record<string, string> = proxies[i] ? { VIGIL_AGENT_ADDRESS_MAP: `${master.host}:${master.port}=127.0.0.1:${proxies[i]!.port}` } : {};
      agents.push(startAgentProcess(`probe-${z}`, `zone-${z}`, token, controller.url, { PROBE_INTERVAL_MS: '100', ...map }));
    }
    await waitFor(async () => (await api('GET', '/api/v1/leadership')).body.leader === true, 10_000, 'the controller to lead');
  }, 60_000);

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.process.stop()));
    await controller?.close();
    await Promise.all(proxies.map((p) => p.close()));
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('refuses to fail over a master cut from two of three agents that the leader and its replicas still reach (master-alive)', async () => {
    const [master, r1, r2] = cutGroup;
    await createCluster(
      'cut',
      [master!, r1!, r2!].map(({ host, port }) => ({ host, port })),
    );
    for (const p of proxies) p.cut('blackhole');
    // The agents' quorum says ODOWN (two of three, a majority of the assigned agents) ...
    await waitForEvent(api, 'cut', 'node.odown', 15_000);
    // ... and the master's own evidence says it is alive: refused, with the evidence.
    const refused = await waitForEvent(api, 'cut', 'failover.refused', 15_000);
    expect(refused.data.code).toBe('master-alive');
    expect(refused.data.evidence).toMatchObject({ alive: true, leader: { answered: true, role: 'master' } });
    const decision = (await api('GET', '/api/v1/clusters/cut/decision')).body;
    expect(decision).toMatchObject({ leader: true, decision: { outcome: 'refused', code: 'master-alive' }, faults: [] });
    // Re-checked every sweep, never acted on: after several sweeps still no failover, the master serves.
    await waitFor(
      async () => (await events(api, 'cut', 'failover.refused')).length >= 1 && (await health(api, 'cut')).nodes.some((n) => n.state === 'odown'),
      5000,
      'the refusal to hold while ODOWN lasts',
    );
    const sweeps = Date.now() + 3 * 1000;
    await waitFor(async () => Date.now() > sweeps, 5000, 'three sweeps');
    expect((await events(api, 'cut')).map((e) => e.type)).not.toContain('failover.started');
    expect(await role(master!)).toBe('master');
    expect((await api('GET', '/api/v1/clusters/cut')).body).toMatchObject({ epoch: 0, master: { port: master!.port } });
    // The path heals: the cut agents see the master again (their connections stuck across the cut are replaced).
    for (const p of proxies) p.restore();
    await waitAllUp(api, 'cut', 3, 20_000);
  });

  it('fails over a master that died during a long maintenance once it ends: staleness is measured from the SDOWN time', async () => {
    const [master, r1, r2] = await startReplicationGroup(2);
    servers.push(master!, r1!, r2!);
    await createCluster(
      'long-maint',
      [master!, r1!, r2!].map(({ host, port }) => ({ host, port })),
    );
    const until = new Date(Date.now() + 600_000).toISOString();
    expect((await api('PUT', '/api/v1/clusters/long-maint/maintenance', { body: { until, reason: 'rack move' } })).status).toBe(200);
    master!.signal('SIGKILL');
    const refused = await waitForEvent(api, 'long-maint', 'failover.refused', 15_000);
    expect(refused.data.code).toBe('maintenance');
    // Past 10 × down-after + 10 s of link down: every replica would count as too stale from a fixed limit.
    const limitS = (10 * DOWN_AFTER_MS + 10_000) / 1000;
    await waitFor(
      async () => Number(/master_link_down_since_seconds:(\d+)/.exec(await info(r1!))?.[1] ?? 0) > limitS,
      (limitS + 15) * 1000,
      'the replicas to be cut from the dead master longer than a fixed staleness limit',
      500,
    );
    expect((await api('DELETE', '/api/v1/clusters/long-maint/maintenance')).status).toBe(200);
    const done = await waitForEvent(api, 'long-maint', 'failover.succeeded', 15_000);
    expect([r1, r2].map((r) => `127.0.0.1:${r!.port}`)).toContain(done.data.to);
  }, 90_000);

  it('never promotes a replica still in its first sync over the master that held the only copy, and says why', async () => {
    // The master writes its snapshot slowly (100 ms a key): the replica's first sync lasts 20 s, holding none of the data meanwhile.
    const master = await startRedis({ args: ['--repl-diskless-sync', 'no', '--rdb-key-save-delay', '100000'] });
    servers.push(master);
    const c = master.client();
    await c.connect();
    for (let i = 0; i < 200; i++) await c.set(`only-copy-${i}`, String(i));
    c.disconnect();
    const replica = await startRedis({ replicaOf: { host: master.host, port: master.port } });
    servers.push(replica);
    await waitFor(async () => /master_sync_in_progress:1/.test(await info(replica)), 10_000, 'the first sync to begin');
    await createCluster('first-sync', [
      { host: master.host, port: master.port },
      { host: replica.host, port: replica.port },
    ]);
    const dry = await api('POST', '/api/v1/clusters/first-sync/failover?dryRun=true', { body: {} });
    expect(dry.body.candidates).toEqual([]);
    expect(dry.body.excluded).toEqual([expect.objectContaining({ port: replica.port, code: 'syncing' })]);

    master.signal('SIGKILL');
    const refused = await waitForEvent(api, 'first-sync', 'failover.refused', 15_000);
    expect(refused.data.code).toBe('no-safe-candidate');
    expect(refused.data.excluded).toEqual([expect.objectContaining({ port: replica.port, code: expect.stringMatching(/^(syncing|no-data)$/) })]);
    expect(refused.data.reason).toMatch(/never completed a sync|sync with the master in progress/);
    expect((await api('GET', '/api/v1/clusters/first-sync/decision')).body.decision).toMatchObject({ outcome: 'refused', code: 'no-safe-candidate' });
    expect(await role(replica)).toBe('slave');
    expect((await api('GET', '/api/v1/clusters/first-sync/failovers')).body.items).toEqual([]);
    // An operator may still force it, naming the node and accepting the loss.
    const forced = await api('POST', '/api/v1/clusters/first-sync/failover', { body: { target: `127.0.0.1:${replica.port}` } });
    expect(forced.status).toBe(409);
    expect(forced.body.message).toMatch(/no-safe-candidate.*acceptDataLoss: true/);
    expect((await api('GET', '/api/v1/clusters/first-sync')).body.epoch).toBe(0);
    const accepted = await api('POST', '/api/v1/clusters/first-sync/failover', { body: { target: `127.0.0.1:${replica.port}`, acceptDataLoss: true } });
    expect(accepted.status, accepted.text).toBe(200);
    expect(accepted.body).toMatchObject({ outcome: 'succeeded', to: `127.0.0.1:${replica.port}` });
    expect(accepted.body.steps.find((s: { name: string }) => s.name === 'candidates').detail.candidates[0]).toMatchObject({
      dataLossAccepted: expect.any(String),
    });
  });

  it('un-fences the live old master when every candidate fails, so the group keeps a writable master', async () => {
    // The replicas refuse REPLICAOF (renamed away, as some operators do): no promotion can succeed.
    const master = await startRedis();
    const replicas = await Promise.all(
      [0, 1].map(() =>
        startRedis({ replicaOf: { host: master.host, port: master.port }, args: ['--rename-command', 'REPLICAOF', '', '--rename-command', 'SLAVEOF', ''] }),
      ),
    );
    servers.push(master, ...replicas);
    for (const r of replicas) await waitFor(async () => /master_link_status:up/.test(await info(r)), 10_000, 'the replica to sync');
    await createCluster(
      'all-fail',
      [master, ...replicas].map(({ host, port }) => ({ host, port })),
    );

    const res = await api('POST', '/api/v1/clusters/all-fail/failover', { body: {} });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ outcome: 'failed', state: 'failed', error: expect.stringMatching(/every candidate failed/) });
    const steps = res.body.steps.map((s: { name: string; status: string }) => `${s.name}:${s.status}`);
    expect(steps).toContain('old_master_fenced:succeeded');
    expect(steps.filter((s: string) => s === 'promoted:failed')).toHaveLength(2);
    expect(steps).toContain('old_master_unfenced:succeeded');
    // The old master takes writes again.
    expect(await role(master)).toBe('master');
    expect(await master.call('SET', 'after-failed-failover', 'ok')).toBe('OK');
    // A failed failover starts no cooldown.
    const failed = await waitForEvent(api, 'all-fail', 'failover.failed', 5000);
    expect(failed.data.oldMasterUnfenced).toMatchObject({ node: `127.0.0.1:${master.port}` });
  });

  it('treats a recorded master that reports itself a replica as a fault and repairs it when no other node claims master', async () => {
    const [master, r1] = await startReplicationGroup(1);
    servers.push(master!, r1!);
    await createCluster(
      'demoted',
      [master!, r1!].map(({ host, port }) => ({ host, port })),
    );
    // Someone points the master at an address that is no node of the group (a stray REPLICAOF).
    expect(await master!.call('REPLICAOF', '127.0.0.1', '1')).toBe('OK');
    const fault = await waitForEvent(api, 'demoted', 'master.reports_replica', 15_000);
    expect(fault.data).toMatchObject({ node: `127.0.0.1:${master!.port}`, follows: '127.0.0.1:1', otherMasters: [], repair: 'REPLICAOF NO ONE' });
    await waitForEvent(api, 'demoted', 'master.repaired', 10_000);
    expect(await role(master!)).toBe('master');
    expect(await master!.call('SET', 'writable-again', 'ok')).toBe('OK');
    expect((await api('GET', '/api/v1/clusters/demoted/failovers')).body.items).toEqual([]);
  });
});
