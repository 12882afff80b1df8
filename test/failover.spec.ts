import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis, startReplicationGroup, waitFor } from '../libs/testing/src/index.js';
import { type Api, freshDatabase, startTestController, type TestController } from './support/controller.js';
import { type AgentProcess, createWatchedCluster, type EventItem, events, sleep, startAgentProcess, waitForEvent } from './support/detection-rig.js';

const DOWN_AFTER_MS = 1000;

/**
 * Automatic failover end to end: real redis-server groups, the controller, three agent processes.
 */
describe('automatic failover', () => {
  let controller: TestController;
  let api: Api;
  const agents: AgentProcess[] = [];
  const servers: RedisServer[] = [];

  async function group(replicas: number): Promise<RedisServer[]> {
    const g = await startReplicationGroup(replicas);
    servers.push(...g);
    return g;
  }

  const createCluster = (name: string, nodes: { host: string; port: number; priority?: number }[], extra: Record<string, unknown> = {}) =>
    createWatchedCluster(api, name, nodes, DOWN_AFTER_MS, extra);

  beforeAll(async () => {
    controller = await startTestController(await freshDatabase(), { AGENT_STALE_AFTER_MS: '1000' });
    api = controller.api;
    const token = (await api('POST', '/api/v1/tokens', { body: { name: 'probes', role: 'agent' } })).body.token;
    for (const z of ['a', 'b', 'c']) agents.push(startAgentProcess(`probe-${z}`, `zone-${z}`, token, controller.url, { PROBE_INTERVAL_MS: '100' }));
    await waitFor(async () => (await api('GET', '/api/v1/leadership')).body.leader === true, 10_000, 'the controller to lead');
  }, 60_000);

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.process.stop()));
    await controller?.close();
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('promotes the preferred replica when the master crashes, re-points the other, records every step, demotes the old master on its return', async () => {
    const [master, preferred, other] = await group(2);
    await createCluster('crash', [
      { host: master!.host, port: master!.port },
      { host: preferred!.host, port: preferred!.port, priority: 10 },
      { host: other!.host, port: other!.port, priority: 50 },
    ]);
    const w = master!.client();
    await w.connect();
    for (let i = 0; i < 100; i++) await w.set(`k${i}`, String(i));
    w.disconnect();
    await sleep(300); // let the replicas take the writes

    master!.signal('SIGKILL');
    const done = await waitForEvent(api, 'crash', 'failover.succeeded', 15_000);
    expect(done.data).toMatchObject({ from: `127.0.0.1:${master!.port}`, to: `127.0.0.1:${preferred!.port}`, epoch: 1 });
    // (jsonb keeps keys in its own order)
    expect(Object.keys(done.data.phases).sort()).toEqual(['decided', 'faultSeen', 'odown', 'promoted', 'published', 'repointed']);
    expect(done.data.durationsMs.total).toBeGreaterThan(DOWN_AFTER_MS - 200);
    expect(await preferred!.role()).toEqual(['master', expect.any(Number), expect.any(Array)]);
    await waitFor(async () => (await other!.role())[2] === preferred!.port, 5000, 'the other replica to follow the new master');
    const c = preferred!.client();
    await c.connect();
    expect(await c.get('k99')).toBe('99');
    c.disconnect();

    const cluster = (await api('GET', '/api/v1/clusters/crash')).body;
    expect(cluster).toMatchObject({ epoch: 1, master: { port: preferred!.port } });
    const list = (await api('GET', '/api/v1/clusters/crash/failovers')).body.items;
    expect(list).toHaveLength(1);
    const record = (await api('GET', `/api/v1/failovers/${list[0].id}`)).body;
    expect(record).toMatchObject({ trigger: 'auto', outcome: 'succeeded', epoch: 1, to: `127.0.0.1:${preferred!.port}` });
    expect(record.steps.map((s: { name: string; status: string }) => `${s.name}:${s.status}`)).toEqual([
      'fault_seen:succeeded',
      'odown:succeeded',
      'decided:succeeded',
      'candidates:succeeded',
      'old_master_fenced:skipped',
      'promoted:succeeded',
      'config_rewritten:skipped',
      'published:succeeded',
      'clients_disconnected:succeeded',
      'replicas_repointed:succeeded',
    ]);
    expect(record.steps[3].detail.candidates.map((x: { port: number }) => x.port)).toEqual([preferred!.port, other!.port]);

    // The old master comes back empty, claiming master: it is demoted to a replica of the new one.
    const back = await startRedis({ port: master!.port });
    servers.push(back);
    const demoted = await waitForEvent(api, 'crash', 'node.demoted', 10_000);
    expect(demoted.data).toMatchObject({ node: `127.0.0.1:${master!.port}`, master: `127.0.0.1:${preferred!.port}` });
    expect((await back.role())[0]).toBe('slave');
    expect((await back.role())[2]).toBe(preferred!.port);

    // Cooldown (default five minutes): the new master's crash is refused, and said so.
    preferred!.signal('SIGKILL');
    const refused = await waitForEvent(api, 'crash', 'failover.refused', 10_000);
    expect(refused.data.code).toBe('cooldown');
    expect((await api('GET', '/api/v1/clusters/crash/failovers')).body.items).toHaveLength(1);
  });

  it('re-points a replica that was down during the failover and comes back following the old master', async () => {
    const [master, r1, r2] = await group(2);
    await createCluster(
      'straggler',
      [master!, r1!, r2!].map(({ host, port }) => ({ host, port })),
    );
    r2!.signal('SIGKILL');
    master!.signal('SIGKILL');
    const done = await waitForEvent(api, 'straggler', 'failover.succeeded', 15_000);
    expect(done.data.to).toBe(`127.0.0.1:${r1!.port}`);
    // Back with its old configuration: a replica of the dead master.
    const back = await startRedis({ port: r2!.port, replicaOf: { host: master!.host, port: master!.port } });
    servers.push(back);
    const repointed = await waitForEvent(api, 'straggler', 'node.repointed', 15_000);
    expect(repointed.data).toMatchObject({ node: `127.0.0.1:${r2!.port}`, followed: `127.0.0.1:${master!.port}`, master: `127.0.0.1:${r1!.port}` });
    expect((await back.role()).slice(0, 3)).toEqual(['slave', '127.0.0.1', r1!.port]);
  });

  it('fails over a hung master and demotes it when it wakes', async () => {
    const [master, r1, r2] = await group(2);
    await createCluster(
      'hang',
      [master!, r1!, r2!].map(({ host, port }) => ({ host, port })),
    );
    master!.signal('SIGSTOP');
    const done = await waitForEvent(api, 'hang', 'failover.succeeded', 15_000);
    const winner = [r1!, r2!].find((r) => done.data.to === `127.0.0.1:${r.port}`)!;
    expect(winner).toBeDefined();
    master!.signal('SIGCONT');
    await waitForEvent(api, 'hang', 'node.demoted', 15_000);
    await waitFor(async () => (await master!.role())[2] === winner.port, 5000, 'the old master to follow the new one');
  });

  it('never promotes priority 0: with no safe candidate it refuses, saying why for each replica, and looks again every sweep', async () => {
    const [master, r1, r2] = await group(2);
    await createCluster('no-candidate', [
      { host: master!.host, port: master!.port },
      { host: r1!.host, port: r1!.port, priority: 0 },
      { host: r2!.host, port: r2!.port, priority: 0 },
    ]);
    master!.signal('SIGKILL');
    const refused = await waitForEvent(api, 'no-candidate', 'failover.refused', 15_000);
    expect(refused.data.code).toBe('no-safe-candidate');
    expect(refused.data.excluded.map((e: { code: string; reason: string }) => [e.code, e.reason])).toEqual([
      ['priority-0', 'priority 0: never promoted'],
      ['priority-0', 'priority 0: never promoted'],
    ]);
    expect((await r1!.role())[0]).toBe('slave');
    expect((await r2!.role())[0]).toBe('slave');
    // No epoch raised, no record: nothing was started.
    expect((await api('GET', '/api/v1/clusters/no-candidate/failovers')).body.items).toEqual([]);
    expect((await api('GET', '/api/v1/clusters/no-candidate')).body.epoch).toBe(0);
    // Re-checked every sweep: once a replica may be promoted, the failover happens.
    const nodes = (await api('GET', '/api/v1/clusters/no-candidate')).body.nodes as { id: string; port: number }[];
    const r2Id = nodes.find((n) => n.port === r2!.port)!.id;
    expect((await api('PATCH', `/api/v1/clusters/no-candidate/nodes/${r2Id}`, { body: { priority: 10 } })).status).toBe(200);
    const done = await waitForEvent(api, 'no-candidate', 'failover.succeeded', 15_000);
    expect(done.data.to).toBe(`127.0.0.1:${r2!.port}`);
  });

  it('lets an operator dry-run, then force a failover to a chosen replica, fencing the live old master first', async () => {
    const [master, r1, r2] = await group(2);
    await createCluster('manual', [
      { host: master!.host, port: master!.port },
      { host: r1!.host, port: r1!.port, priority: 0 },
      { host: r2!.host, port: r2!.port },
    ]);
    const dry = await api('POST', '/api/v1/clusters/manual/failover?dryRun=true', { body: {} });
    expect(dry.status).toBe(200);
    expect(dry.body.candidates.map((c: { port: number }) => c.port)).toEqual([r2!.port]);
    expect(dry.body.excluded).toEqual([expect.objectContaining({ port: r1!.port, reason: 'priority 0: never promoted' })]);
    expect(await master!.role()).toEqual(['master', expect.any(Number), expect.any(Array)]); // a dry run changes nothing

    expect((await api('POST', '/api/v1/clusters/manual/failover', { body: { expectedEpoch: 7 } })).status).toBe(409);
    const viewer = (await api('POST', '/api/v1/tokens', { body: { name: 'viewer', role: 'viewer' } })).body.token;
    expect((await api('POST', '/api/v1/clusters/manual/failover', { token: viewer, body: {} })).status).toBe(403);

    const res = await api('POST', '/api/v1/clusters/manual/failover', { body: { target: `127.0.0.1:${r2!.port}`, expectedEpoch: 0 } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ trigger: 'manual', outcome: 'succeeded', epoch: 1, to: `127.0.0.1:${r2!.port}`, actor: 'token:bootstrap-admin' });
    expect(res.body.steps.map((s: { name: string; status: string }) => `${s.name}:${s.status}`)).toContain('old_master_fenced:succeeded');
    expect((await r2!.role())[0]).toBe('master');
    expect((await master!.role()).slice(0, 3)).toEqual(['slave', '127.0.0.1', r2!.port]);
    await waitFor(async () => (await r1!.role())[2] === r2!.port, 5000, 'the other replica to follow');
  });

  it('switches over under a continuous writer without losing an acknowledged write', async () => {
    const [master, r1, r2] = await group(2);
    await createCluster(
      'planned',
      [master!, r1!, r2!].map(({ host, port }) => ({ host, port })),
    );
    const byPort = new Map([master!, r1!, r2!].map((s) => [s.port, s]));
    const acked: number[] = [];
    let stop = false;
    const writer = (async () => {
      let current = master!;
      let c = current.client();
      await c.connect();
      for (let i = 0; !stop;) {
        try {
          await c.set(`w${i}`, String(i));
          acked.push(i++);
        } catch {
          // Not acknowledged: find the master again (as a client library would) and retry the same key.
          c.disconnect();
          const now = (await api('GET', '/api/v1/clusters/planned')).body.master;
          current = byPort.get(now.port)!;
          c = current.client();
          c.on('error', () => undefined);
          await c.connect().catch(() => undefined);
          await sleep(10);
        }
      }
      c.disconnect();
    })();
    await sleep(500);
    const res = await api('POST', '/api/v1/clusters/planned/switchover', { body: { target: `127.0.0.1:${r2!.port}` } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ trigger: 'switchover', outcome: 'succeeded', to: `127.0.0.1:${r2!.port}` });
    await sleep(500);
    stop = true;
    await writer;
    expect(acked.length).toBeGreaterThan(100);
    expect((await r2!.role())[0]).toBe('master');
    expect((await master!.role()).slice(0, 3)).toEqual(['slave', '127.0.0.1', r2!.port]);
    // Every acknowledged write is on the new master.
    const c = r2!.client();
    await c.connect();
    const values = await c.mget(...acked.map((i) => `w${i}`));
    c.disconnect();
    expect(values.filter((v, k) => v !== String(acked[k])).length).toBe(0);
  });

  it('does not act twice for a retried request with the same Idempotency-Key', async () => {
    const [master, r1] = await group(1);
    await createCluster(
      'idem',
      [master!, r1!].map(({ host, port }) => ({ host, port })),
    );
    const headers = { 'idempotency-key': 'ops-ticket-4711' };
    const first = await api('POST', '/api/v1/clusters/idem/failover', { headers, body: { expectedEpoch: 0 } });
    expect(first.status).toBe(200);
    const again = await api('POST', '/api/v1/clusters/idem/failover', { headers, body: { expectedEpoch: 0 } });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    expect((await api('GET', '/api/v1/clusters/idem/failovers')).body.items).toHaveLength(1);
    expect((await api('GET', '/api/v1/clusters/idem')).body.epoch).toBe(1);
    const reused = await api('POST', '/api/v1/clusters/idem/failover', { headers, body: { expectedEpoch: 1 } });
    expect(reused.status).toBe(409);
    expect(reused.body.details).toEqual([{ field: 'Idempotency-Key', reason: 'this Idempotency-Key was used for a different request' }]);
    expect((await api('PATCH', '/api/v1/clusters/idem', { headers: { 'idempotency-key': 'no spaces' }, body: {} })).status).toBe(400);
    // A failed request frees its key.
    const stale = await api('PATCH', '/api/v1/clusters/idem', { headers: { 'idempotency-key': 'k2' }, body: { quorum: 1, expectedEpoch: 0 } });
    expect(stale.status).toBe(409);
    const fixed = await api('PATCH', '/api/v1/clusters/idem', { headers: { 'idempotency-key': 'k2' }, body: { quorum: 1, expectedEpoch: 1 } });
    expect(fixed.status).toBe(200);
    expect(fixed.body.quorum).toBe(1);
  });

  it('puts a cluster in maintenance and takes it out, audited', async () => {
    const [m] = await group(0);
    await createCluster('maint-api', [{ host: m!.host, port: m!.port }]);
    const until = new Date(Date.now() + 600_000).toISOString();
    const put = await api('PUT', '/api/v1/clusters/maint-api/maintenance', { body: { until, reason: 'kernel upgrade' } });
    expect(put.status).toBe(200);
    expect(put.body.maintenanceUntil).toBe(until);
    expect((await api('PUT', '/api/v1/clusters/maint-api/maintenance', { body: { until: '2000-01-01T00:00:00Z' } })).body.details).toEqual([
      { field: 'until', reason: 'must be in the future' },
    ]);
    const del = await api('DELETE', '/api/v1/clusters/maint-api/maintenance');
    expect(del.body.maintenanceUntil).toBeNull();
    const types = (await events(api, 'maint-api')).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['cluster.maintenance_started', 'cluster.maintenance_ended']));
  });

  it('refuses automatic failover in maintenance and with auto-failover off, saying why', async () => {
    const [m1, r1] = await group(1);
    const [m2, r2] = await group(1);
    await createCluster(
      'maint',
      [m1!, r1!].map(({ host, port }) => ({ host, port })),
      { maintenanceUntil: new Date(Date.now() + 3_600_000).toISOString() },
    );
    await createCluster(
      'manual-only',
      [m2!, r2!].map(({ host, port }) => ({ host, port })),
      { autoFailover: false },
    );
    m1!.signal('SIGKILL');
    m2!.signal('SIGKILL');
    const a = await waitForEvent(api, 'maint', 'failover.refused', 10_000);
    const b = await waitForEvent(api, 'manual-only', 'failover.refused', 10_000);
    expect([a.data.code, b.data.code]).toEqual(['maintenance', 'auto_failover_off']);
    await sleep(1500);
    for (const name of ['maint', 'manual-only']) {
      const all: EventItem[] = await events(api, name);
      expect(all.filter((e) => e.type.startsWith('failover.')).map((e) => e.type)).toEqual(['failover.refused']); // said once, not every second
    }
    expect((await r1!.role())[0]).toBe('slave');
    expect((await r2!.role())[0]).toBe('slave');
  });
});
