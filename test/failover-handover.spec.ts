import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ManagedProcess, type RedisServer, startReplicationGroup, waitFor } from '../libs/testing/src/index.js';
import { type Api, freshDatabase, startTestController, type TestController, startControllerProcess } from './support/controller.js';
import { type AgentProcess, events, startAgentProcess, waitAllUp, waitForEvent } from './support/detection-rig.js';

const LEASE = { LEADER_LEASE_MS: '1500', LEADER_RENEW_MS: '300', AGENT_STALE_AFTER_MS: '1000' };

/**
 * The leader is paused (SIGSTOP) in the middle of a failover, after promoting its candidate and before
 * recording it. The standby takes the lease, resumes the failover from its persisted state under a
 * raised epoch (adopting the promotion: same node, same run id, data kept) and completes it. When the
 * paused leader wakes, every write it still had in flight is refused by the (epoch, term) fence: one
 * record, one promotion, one recorded master, nothing overwritten.
 *
 * The window is held open for real: the test locks the `nodes` table in PostgreSQL, so the leader's
 * record-the-master write waits on it; the pause is then a real SIGSTOP of the controller process.
 */
describe('a failover whose leader is paused in the middle', () => {
  let a: ManagedProcess;
  let aApi: Api;
  let b: TestController;
  let db: pg.Client;
  let dbUrl: string;
  const agents: AgentProcess[] = [];
  let group: RedisServer[];

  beforeAll(async () => {
    dbUrl = await freshDatabase();
    const ctl = await startControllerProcess(dbUrl, { CONTROLLER_NAME: 'ctl-a', ...LEASE });
    a = ctl.process;
    aApi = ctl.api;
    await waitFor(async () => (await aApi('GET', '/api/v1/leadership').catch(() => undefined))?.body?.leader === true, 30_000, 'A to lead');
    b = await startTestController(dbUrl, { CONTROLLER_NAME: 'ctl-b', REDIS_ADMIN_TIMEOUT_MS: '300', ...LEASE });
    db = new pg.Client({ connectionString: dbUrl });
    await db.connect();
    const token = (await aApi('POST', '/api/v1/tokens', { body: { name: 'probes', role: 'agent' } })).body.token;
    for (const z of ['a', 'b', 'c']) agents.push(startAgentProcess(`probe-${z}`, `zone-${z}`, token, `${ctl.url},${b.url}`, { PROBE_INTERVAL_MS: '100' }));
    group = await startReplicationGroup(2);
    const created = await aApi('POST', '/api/v1/clusters', {
      body: { name: 'handover', nodes: group.map(({ host, port }, i) => ({ host, port, priority: i === 1 ? 10 : 100 })), quorum: 2, downAfterMs: 1000 },
    });
    expect(created.status).toBe(201);
    await waitAllUp(aApi, 'handover', 3);
    await waitAllUp(b.api, 'handover', 3);
  }, 90_000);

  afterAll(async () => {
    a?.child.kill('SIGCONT');
    await db?.end().catch(() => undefined);
    await Promise.all(agents.map((x) => x.process.stop()));
    await a?.stop();
    await b?.close();
    await Promise.all((group ?? []).map((s) => s.stop()));
  });

  const waitingOnNodes = async () =>
    Number(
      (
        await db.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%UPDATE nodes SET role%' AND pid <> pg_backend_pid()`,
        )
      ).rows[0].n,
    );
  const stepsOf = async (id: string) =>
    (await db.query(`SELECT name, status, detail FROM failover_steps WHERE failover_id = $1 ORDER BY seq`, [id])).rows as {
      name: string;
      status: string;
      detail: Record<string, unknown>;
    }[];

  it('is completed by the standby under a raised epoch, and the paused leader changes nothing when it wakes', async () => {
    const [master, r1, r2] = group;
    const lock = new pg.Client({ connectionString: dbUrl });
    await lock.connect();
    await lock.query('BEGIN');
    await lock.query('LOCK TABLE nodes IN EXCLUSIVE MODE');
    master!.signal('SIGKILL');

    // A promotes r1 and then waits to record it.
    const started = await waitForEvent(b.api, 'handover', 'failover.started', 15_000);
    expect(started.actor).toBe('controller:ctl-a');
    const id = started.data.failoverId as string;
    await waitFor(
      async () => (await stepsOf(id)).some((s) => s.name === 'promoted' && s.status === 'succeeded') && (await waitingOnNodes()) === 1,
      15_000,
      'A to promote and wait to record',
    );
    a.child.kill('SIGSTOP');

    // B takes the lease, resumes from the persisted phase (promoting r1), adopts the promotion, waits to record.
    await waitFor(
      async () => (await stepsOf(id)).some((s) => s.name === 'resumed') && (await waitingOnNodes()) === 2,
      20_000,
      'B to resume and wait to record',
    );
    await lock.query('COMMIT');
    await lock.end();
    const done = await waitForEvent(b.api, 'handover', 'failover.succeeded', 20_000);
    expect(done.actor).toBe('controller:ctl-b');
    expect(done.data).toMatchObject({ failoverId: id, epoch: 2, to: `127.0.0.1:${r1!.port}` });

    // A wakes: its write in flight is refused by the fence and it rolls back; nothing it does lands.
    a.child.kill('SIGCONT');
    await waitFor(
      async () =>
        Number(
          (await db.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`)).rows[0]
            .n,
        ) === 0,
      10_000,
      'the woken leader to roll back',
    );
    await waitFor(async () => (await aApi('GET', '/api/v1/leadership').catch(() => undefined))?.body?.leader === false, 10_000, 'A to see it no longer leads');

    const records = (await b.api('GET', '/api/v1/clusters/handover/failovers')).body.items;
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ outcome: 'succeeded', state: 'done', epoch: 2, to: `127.0.0.1:${r1!.port}` });
    const steps = await stepsOf(id);
    const promoted = steps.filter((s) => s.name === 'promoted');
    expect(promoted.map((s) => [s.status, s.detail['adopted'] === true])).toEqual([
      ['succeeded', false], // A's REPLICAOF NO ONE
      ['succeeded', true], // B adopts it: the same node, the same run id, its data kept
    ]);
    expect(steps.filter((s) => s.name === 'published')).toHaveLength(1);
    const types = (await events(b.api, 'handover')).map((e) => e.type);
    expect(types.filter((t) => t === 'master.changed')).toHaveLength(1);
    expect(types.filter((t) => t === 'failover.succeeded')).toHaveLength(1);
    expect(types).toContain('failover.resumed');
    expect((await b.api('GET', '/api/v1/clusters/handover')).body).toMatchObject({ epoch: 2, master: { port: r1!.port } });
    const c = r1!.client();
    await c.connect();
    expect(((await c.call('ROLE')) as unknown[])[0]).toBe('master');
    c.disconnect();
    await waitFor(
      async () => {
        const d = r2!.client();
        d.on('error', () => undefined);
        await d.connect();
        try {
          return ((await d.call('ROLE')) as unknown[])[2] === r1!.port;
        } finally {
          d.disconnect();
        }
      },
      5000,
      'the other replica to follow the new master',
    );
  });
});
