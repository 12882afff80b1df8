import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startReplicationGroup, startTcpProxy, type TcpProxy, waitFor } from '../libs/testing/src/index.js';
import { type Api, freshDatabase, startTestController, type TestController } from './support/controller.js';
import { type AgentProcess, createWatchedCluster, type EventItem, events, health, sleep, startAgentProcess } from './support/detection-rig.js';

const DOWN_AFTER_MS = 1000;
/** Longer than down-after plus the time a vote stays valid: any false decision would have been taken by then. */
const HOLD_MS = DOWN_AFTER_MS + 1500;

/**
 * The agents lose the controller (each reaches it through its own TCP proxy, cut like a partition:
 * connections blackholed, peers see timeouts). A minority cut changes nothing; with every agent cut,
 * no node goes ODOWN and nothing is failed over — even a master that crashes meanwhile — and every
 * cluster says it cannot decide, and why. When the link heals the reports resume, the clusters can
 * decide again, the master that died during the cut is failed over, and a later crash is failed over
 * as usual.
 */
describe('agents cut from the controller', () => {
  let controller: TestController;
  let api: Api;
  const proxies: TcpProxy[] = [];
  const agents: AgentProcess[] = [];
  const servers: RedisServer[] = [];
  const groups: Record<string, RedisServer[]> = {};

  const allEvents = async (type: string): Promise<EventItem[]> => (await api('GET', `/api/v1/events?type=${type}&limit=500`)).body.items;
  const after = (items: EventItem[], id: string) => items.filter((e) => BigInt(e.id) > BigInt(id));
  const newest = async (): Promise<string> => {
    const items = (await api('GET', '/api/v1/events?limit=1&after=0')).body.items as EventItem[];
    // The log is listed oldest first: page to its end.
    let last = items.at(-1)?.id ?? '0';
    for (;;) {
      const page = (await api('GET', `/api/v1/events?limit=500&after=${last}`)).body.items as EventItem[];
      if (page.length === 0) return last;
      last = page.at(-1)!.id;
    }
  };
  const failoverEvents = async (since: string): Promise<EventItem[]> => {
    const all: EventItem[] = [];
    for (const type of ['node.odown', 'failover.started', 'failover.succeeded', 'failover.failed', 'failover.refused', 'failover.aborted']) {
      all.push(...after(await allEvents(type), since));
    }
    return all;
  };
  const metric = async (name: string): Promise<number> => {
    const line = (await (await fetch(`${controller.url}/metrics`)).text()).split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return line ? Number(line.split(' ').pop()) : NaN;
  };

  beforeAll(async () => {
    controller = await startTestController(await freshDatabase(), { AGENT_STALE_AFTER_MS: '1000' });
    api = controller.api;
    const target = new URL(controller.url);
    const token = (await api('POST', '/api/v1/tokens', { body: { name: 'probes', role: 'agent' } })).body.token;
    for (const z of ['a', 'b', 'c']) {
      const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
      proxies.push(proxy);
      agents.push(startAgentProcess(`probe-${z}`, `zone-${z}`, token, `http://127.0.0.1:${proxy.port}`, { PROBE_INTERVAL_MS: '100' }));
    }
    await waitFor(async () => (await api('GET', '/api/v1/leadership')).body.leader === true, 10_000, 'the controller to lead');
    for (const name of ['during', 'later']) {
      const group = await startReplicationGroup(1);
      servers.push(...group);
      groups[name] = group;
      await createWatchedCluster(
        api,
        name,
        group.map(({ host, port }) => ({ host, port })),
        DOWN_AFTER_MS,
      );
    }
  }, 60_000);

  afterAll(async () => {
    for (const p of proxies) p.restore();
    await Promise.all(agents.map((a) => a.process.stop()));
    await controller?.close();
    await Promise.all(proxies.map((p) => p.close()));
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('a minority cut (one agent of three) goes stale and changes no decision', async () => {
    const since = await newest();
    proxies[0]!.cut('blackhole');
    try {
      const stale = await waitFor(async () => after(await allEvents('agent.stale'), since).find((e) => e.data.name === 'probe-a'), 10_000, 'probe-a stale');
      expect(stale.data.name).toBe('probe-a');
      await sleep(HOLD_MS);
      for (const name of ['during', 'later']) {
        const h = await health(api, name);
        expect(h).toMatchObject({ canDecide: true, healthyAgents: 2 });
        expect(h.nodes.every((n) => n.state === 'up')).toBe(true);
      }
      expect(await failoverEvents(since)).toEqual([]);
      expect(after(await allEvents('cluster.cannot_decide'), since)).toEqual([]);
    } finally {
      proxies[0]!.restore();
    }
    await waitFor(async () => after(await allEvents('agent.recovered'), since).some((e) => e.data.name === 'probe-a'), 10_000, 'probe-a recovered');
    await waitFor(async () => (await health(api, 'during')).healthyAgents === 3, 10_000, 'three healthy agents again');
  });

  it('every agent cut: no ODOWN, no failover (not even of a master that crashes), clusters cannot decide; after the heal they catch up', async () => {
    const since = await newest();
    const [master, replica] = groups['during']!;
    for (const p of proxies) p.cut('blackhole');
    let healedAt: number;
    try {
      // Every cluster says it cannot decide, and why.
      const cannot = await waitFor(
        async () => {
          const items = after(await allEvents('cluster.cannot_decide'), since);
          return ['during', 'later'].every((c) => items.some((e) => e.cluster === c)) ? items : undefined;
        },
        10_000,
        'both clusters unable to decide',
      );
      for (const e of cannot)
        expect(e.data).toMatchObject({ quorum: 2, assignedAgents: 3, reason: expect.stringMatching(/^[01] of 3 assigned agents can vote; ODOWN needs 2$/) });
      const h = await waitFor(
        async () => {
          const now = await health(api, 'during');
          return now.healthyAgents === 0 ? now : undefined;
        },
        10_000,
        'every agent stale',
      );
      expect(h.canDecide).toBe(false);
      expect((h as unknown as { cannotDecideReason: string }).cannotDecideReason).toMatch(/ODOWN needs 2/);
      expect(await metric('vigil_detection_clusters_cannot_decide')).toBe(2);

      // The master of "during" crashes while nobody can see it: nothing is decided.
      master!.signal('SIGKILL');
      await sleep(HOLD_MS);
      expect(await failoverEvents(since)).toEqual([]);
      expect((await api('GET', '/api/v1/clusters/during/master')).body).toMatchObject({ port: master!.port, epoch: 0 });
      // Asked, the leader says why it would not fail over now.
      const now = (await api('GET', '/api/v1/clusters/during/decision')).body.now as { wouldFailOver: boolean; reason: string };
      expect(now.wouldFailOver).toBe(false);
      console.log('decision during the cut:', now.reason);
    } finally {
      for (const p of proxies) p.restore();
      healedAt = Date.now();
    }

    // Healed: the reports resume, both clusters can decide again, and the dead master is failed over.
    const can = await waitFor(
      async () => {
        const items = after(await allEvents('cluster.can_decide'), since);
        return ['during', 'later'].every((c) => items.some((e) => e.cluster === c)) ? items : undefined;
      },
      10_000,
      'both clusters able to decide again',
    );
    expect(can.every((e) => e.data.usableAgents >= 2)).toBe(true);
    const done = await waitFor(async () => after(await events(api, 'during', 'failover.succeeded'), since)[0], 15_000, 'the failover after the heal');
    expect(done.data).toMatchObject({ from: `127.0.0.1:${master!.port}`, to: `127.0.0.1:${replica!.port}` });
    const caughtUpMs = Date.parse(done.at) - healedAt;
    expect(caughtUpMs).toBeLessThan(10_000);
    expect(await metric('vigil_detection_clusters_cannot_decide')).toBe(0);
    // No false decision on the healthy cluster.
    expect(after(await events(api, 'later', 'failover.started'), since)).toEqual([]);
    expect(after(await events(api, 'later', 'node.odown'), since)).toEqual([]);
    console.log(`agents cut: the master that died during the cut was failed over ${caughtUpMs} ms after the heal`);
  });

  it('after the heal, a master crash is failed over as usual', async () => {
    const [master, replica] = groups['later']!;
    master!.signal('SIGKILL');
    const done = await waitFor(async () => (await events(api, 'later', 'failover.succeeded'))[0], 15_000, 'the failover of later');
    expect(done.data).toMatchObject({ from: `127.0.0.1:${master!.port}`, to: `127.0.0.1:${replica!.port}` });
    expect(done.data.durationsMs.total).toBeLessThan(5000);
  });
});
