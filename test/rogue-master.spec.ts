/**
 * An old master back from a partition or a pause claims master while the topology holds it as a replica.
 * Agents send a node's `INFO replication` only when it changes (and every 5 s): to the agent that read
 * "master" before the node went silent, nothing has changed, so its reports carry no reading. The
 * controller must act on that agent's latest reading and demote the node at once, not when the reading
 * is next repeated. Real controller, real redis-server group; the agent's reports are posted by the test
 * so the sequence is exact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startReplicationGroup, waitFor } from '../libs/testing/src/index.js';
import { type Api, freshDatabase, startTestController, type TestController } from './support/controller.js';

describe('an old master that comes back claiming master', () => {
  let controller: TestController;
  let api: Api;
  let group: RedisServer[] = [];
  let token: string;

  beforeAll(async () => {
    controller = await startTestController(await freshDatabase());
    api = controller.api;
    group = await startReplicationGroup(2);
    const created = await api('POST', '/api/v1/clusters', {
      body: { name: 'orders', nodes: group.map(({ host, port }) => ({ host, port })), quorum: 1, downAfterMs: 1000, autoFailover: false },
    });
    expect(created.status, created.text).toBe(201);
    token = (await api('POST', '/api/v1/tokens', { body: { name: 'probe', role: 'agent' } })).body.token;
    expect((await api('POST', '/api/v1/agents/register', { token, body: { name: 'probe-a', zone: 'a', version: '0' } })).status).toBe(200);
  });

  afterAll(async () => {
    await controller?.close();
    await Promise.all(group.map((s) => s.stop()));
  });

  it('is demoted from the agent’s latest reading, without waiting for the reading to be repeated', { timeout: 30_000 }, async () => {
    const cluster = (await api('GET', '/api/v1/clusters/orders')).body as { nodes: { id: string; host: string; port: number; role: string }[] };
    const id = (s: RedisServer) => cluster.nodes.find((n) => n.port === s.port)!.id;
    const [master, replica, rogue] = group as [RedisServer, RedisServer, RedisServer];
    expect(cluster.nodes.find((n) => n.port === rogue.port)!.role).toBe('replica');
    let seq = 0;
    const post = async (nodes: unknown[]) => {
      const res = await api('POST', '/api/v1/agents/probe-a/reports', { token, body: { seq: ++seq, assignment: 'x', intervalMs: 100, nodes } });
      expect(res.status, res.text).toBe(200);
    };
    const masterOk = { id: id(master), st: 'ok', ago: 0, lat: 1, repl: { role: 'master', offset: 0, replicas: 2, ageMs: 0 } };
    const replicaOk = {
      id: id(replica),
      st: 'ok',
      ago: 0,
      lat: 1,
      repl: { role: 'replica', offset: 0, masterHost: master.host, masterPort: master.port, linkUp: true, ageMs: 0 },
    };

    // The node is made a master behind Vigil's back while the agent cannot reach it; the agent's last
    // reading of it (taken before it went silent) says master.
    await rogue.call('REPLICAOF', 'NO', 'ONE');
    await post([masterOk, replicaOk, { id: id(rogue), st: 'down', ago: 5000, err: 'timeout', repl: { role: 'master', offset: 0, replicas: 0, ageMs: 4000 } }]);
    // It answers again; the agent's reports now carry no reading of it (unchanged in the agent's eyes).
    const stop = { done: false };
    const reporting = (async () => {
      while (!stop.done) {
        await post([masterOk, replicaOk, { id: id(rogue), st: 'ok', ago: 0, lat: 1 }]);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await waitFor(async () => (await rogue.role())[0] === 'slave', 5_000, 'the rogue master demoted', 50);
    } finally {
      stop.done = true;
      await reporting;
    }
    const role = await rogue.role();
    expect([role[1], role[2]]).toEqual([master.host, master.port]);
    const events = (await api('GET', '/api/v1/events?type=node.demoted')).body.items as { data: { node: string; master: string } }[];
    expect(events.map((e) => e.data.node)).toEqual([`${rogue.host}:${rogue.port}`]);
  });
});
