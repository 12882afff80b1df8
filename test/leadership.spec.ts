import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ManagedProcess, type RedisServer, startRedis, waitFor } from '../libs/testing/src/index.js';
import { type Api, freshDatabase, startTestController, type TestController, startControllerProcess } from './support/controller.js';
import { type AgentProcess, events, health, startAgentProcess, waitForEvent } from './support/detection-rig.js';

const LEASE = { LEADER_LEASE_MS: '1500', LEADER_RENEW_MS: '300' };

/**
 * Two controller replicas on one database: controller A as a real process (so it can be SIGKILLed),
 * controller B in this process. One agent reports to both.
 */
describe('leadership between two controller replicas', () => {
  let dbUrl: string;
  let a: ManagedProcess;
  let aApi: Api;
  let aUrl: string;
  let b: TestController;
  let agent: AgentProcess;
  let redis: RedisServer;

  beforeAll(async () => {
    dbUrl = await freshDatabase();
    const ctl = await startControllerProcess(dbUrl, { CONTROLLER_NAME: 'ctl-a', AGENT_STALE_AFTER_MS: '1000', ...LEASE });
    a = ctl.process;
    aApi = ctl.api;
    aUrl = ctl.url;
    await waitFor(async () => (await aApi('GET', '/api/v1/leadership')).body.leader === true, 10_000, 'A to lead');
    b = await startTestController(dbUrl, { CONTROLLER_NAME: 'ctl-b', AGENT_STALE_AFTER_MS: '1000', ...LEASE });
    redis = await startRedis();
    const token = (await aApi('POST', '/api/v1/tokens', { body: { name: 'probe', role: 'agent' } })).body.token;
    agent = startAgentProcess('probe-1', 'zone-1', token, `${aUrl},${b.url}`, { PROBE_INTERVAL_MS: '100' });
  }, 60_000);

  afterAll(async () => {
    await agent?.process.stop();
    await a?.stop();
    await b?.close();
    await redis?.stop();
  });

  it('has exactly one leader; the standby serves the same detection but writes no events', async () => {
    expect((await aApi('GET', '/api/v1/leadership')).body).toMatchObject({ leader: true, self: expect.stringMatching(/^ctl-a\//), lease: { term: 1 } });
    expect((await b.api('GET', '/api/v1/leadership')).body).toMatchObject({ leader: false, self: expect.stringMatching(/^ctl-b\//), lease: { term: 1 } });

    const created = await aApi('POST', '/api/v1/clusters', {
      body: { name: 'solo', nodes: [{ host: redis.host, port: redis.port }], quorum: 1, downAfterMs: 500 },
    });
    expect(created.status).toBe(201);
    for (const api of [aApi, b.api]) {
      await waitFor(async () => (await health(api, 'solo')).nodes[0]?.state === 'up', 15_000, 'node up on both replicas');
    }
    redis.signal('SIGKILL');
    const odown = await waitForEvent(aApi, 'solo', 'node.odown', 10_000);
    expect(odown.actor).toBe('controller:ctl-a');
    await waitFor(async () => (await health(b.api, 'solo')).nodes[0]?.state === 'odown', 5000, 'the standby to see ODOWN too');
    await new Promise((r) => setTimeout(r, 500));
    const written = await events(aApi, 'solo');
    expect(written.filter((e) => e.type === 'node.odown')).toHaveLength(1);
    expect(written.filter((e) => e.type.startsWith('node.')).every((e) => e.actor === 'controller:ctl-a')).toBe(true);
  });

  it('hands leadership to the standby within the lease when the leader is killed', async () => {
    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    await a.exited;
    await waitFor(async () => (await b.api('GET', '/api/v1/leadership')).body.leader === true, 10_000, 'B to lead');
    const tookMs = Date.now() - killedAt;
    expect(tookMs).toBeLessThan(1500 + 300 + 1000);
    const lease = (await b.api('GET', '/api/v1/leadership')).body.lease;
    expect(lease).toMatchObject({ holder: expect.stringMatching(/^ctl-b\//), term: 2 });
    const elected = (await b.api('GET', '/api/v1/events?type=controller.leader_elected')).body.items as { actor: string; data: { term: number } }[];
    expect(elected.map((e) => [e.actor, e.data.term])).toEqual([
      ['controller:ctl-a', 1],
      ['controller:ctl-b', 2],
    ]);
    // The new leader records where detection stands: the dead node is ODOWN.
    const state = await waitFor(
      async () => ((await b.api('GET', '/api/v1/events?type=detection.state')).body.items as { data: { nodesNotUp: { port: number; state: string }[] } }[])[0],
      5000,
      'detection state recorded by the new leader',
    );
    expect(state.data.nodesNotUp).toEqual([expect.objectContaining({ port: redis.port, state: 'odown' })]);
  });
});
