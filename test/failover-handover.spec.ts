import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ManagedProcess, type RedisServer, startReplicationGroup, waitFor } from '../libs/testing/src/index.js';
import { type Api, freshDatabase, startTestController, type TestController, startControllerProcess } from './support/controller.js';
import { type AgentProcess, startAgentProcess, waitAllUp, waitForEvent } from './support/detection-rig.js';

const LEASE = { LEADER_LEASE_MS: '1500', LEADER_RENEW_MS: '300', AGENT_STALE_AFTER_MS: '1000' };

/**
 * The leader dies in the middle of a failover: the standby takes the lease, finds the failover left
 * running, and completes it under the same record and epoch, with one promotion.
 */
describe('a failover interrupted by the death of the leader', () => {
  let a: ManagedProcess;
  let aApi: Api;
  let b: TestController;
  const agents: AgentProcess[] = [];
  let group: RedisServer[];

  beforeAll(async () => {
    const dbUrl = await freshDatabase();
    // A replica that hangs keeps A's candidate reads waiting 5 s: the window to kill A in.
    const ctl = await startControllerProcess(dbUrl, { CONTROLLER_NAME: 'ctl-a', REDIS_ADMIN_TIMEOUT_MS: '5000', ...LEASE });
    a = ctl.process;
    aApi = ctl.api;
    const aUrl = ctl.url;
    await waitFor(async () => (await aApi('GET', '/api/v1/leadership').catch(() => undefined))?.body?.leader === true, 30_000, 'A to lead');
    b = await startTestController(dbUrl, { CONTROLLER_NAME: 'ctl-b', REDIS_ADMIN_TIMEOUT_MS: '300', ...LEASE });
    const token = (await aApi('POST', '/api/v1/tokens', { body: { name: 'probes', role: 'agent' } })).body.token;
    for (const z of ['a', 'b', 'c']) agents.push(startAgentProcess(`probe-${z}`, `zone-${z}`, token, `${aUrl},${b.url}`, { PROBE_INTERVAL_MS: '100' }));
    group = await startReplicationGroup(2);
    const created = await aApi('POST', '/api/v1/clusters', {
      body: { name: 'handover', nodes: group.map(({ host, port }) => ({ host, port })), quorum: 2, downAfterMs: 1000 },
    });
    expect(created.status).toBe(201);
    await waitAllUp(aApi, 'handover', 3);
    await waitAllUp(b.api, 'handover', 3);
  }, 90_000);

  afterAll(async () => {
    group?.[2]?.signal('SIGCONT');
    await Promise.all(agents.map((x) => x.process.stop()));
    await a?.stop();
    await b?.close();
    await Promise.all((group ?? []).map((s) => s.stop()));
  });

  it('is completed by the standby under the same epoch, with a single promotion', async () => {
    const [master, r1, r2] = group;
    r2!.signal('SIGSTOP'); // A will wait on it while ranking
    master!.signal('SIGKILL');
    const started = await waitForEvent(b.api, 'handover', 'failover.started', 15_000);
    expect(started.actor).toBe('controller:ctl-a');
    a.child.kill('SIGKILL');

    const done = await waitForEvent(b.api, 'handover', 'failover.succeeded', 20_000);
    expect(done.actor).toBe('controller:ctl-b');
    expect(done.data).toMatchObject({ failoverId: started.data.failoverId, epoch: 1, to: `127.0.0.1:${r1!.port}` });
    const records = (await b.api('GET', '/api/v1/clusters/handover/failovers')).body.items;
    expect(records).toHaveLength(1);
    const record = (await b.api('GET', `/api/v1/failovers/${records[0].id}`)).body;
    expect(record).toMatchObject({ outcome: 'succeeded', epoch: 1 });
    const names = record.steps.map((s: { name: string }) => s.name);
    expect(names).toContain('resumed');
    expect(names.filter((n: string) => n === 'promoted')).toHaveLength(1);
    expect((await b.api('GET', '/api/v1/clusters/handover')).body).toMatchObject({ epoch: 1, master: { port: r1!.port } });
    const c = r1!.client();
    await c.connect();
    expect(((await c.call('ROLE')) as unknown[])[0]).toBe('master');
    c.disconnect();
  });
});
