import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FailoverStore, FencedError } from '../apps/controller/src/failover/failover-store.js';
import { LeadershipService } from '../apps/controller/src/leadership/leadership.service.js';
import { type RedisServer, startRedis, waitFor } from '../libs/testing/src/index.js';
import { freshDatabase, startTestController, type TestController } from './support/controller.js';

/** Epoch and lease fencing are enforced by PostgreSQL itself, whatever a controller believes. */
describe('fencing in the database', () => {
  let dbUrl: string;
  let controller: TestController;
  let db: pg.Client;
  let redis: RedisServer;
  let cluster: { id: string; name: string };
  let nodeId: string;

  beforeAll(async () => {
    dbUrl = await freshDatabase();
    controller = await startTestController(dbUrl);
    db = new pg.Client({ connectionString: dbUrl });
    await db.connect();
    redis = await startRedis();
    const created = await controller.api('POST', '/api/v1/clusters', {
      body: { name: 'fenced', nodes: [{ host: redis.host, port: redis.port }], quorum: 1, downAfterMs: 1000 },
    });
    cluster = { id: created.body.id, name: 'fenced' };
    nodeId = created.body.nodes[0].id;
    await waitFor(async () => controller.app.get(LeadershipService).isLeader(), 10_000, 'the controller to lead');
  });

  afterAll(async () => {
    await db?.end();
    await controller?.close();
    await redis?.stop();
  });

  const begin = (expectedEpoch: number, lease: { holder: string; term: number }) =>
    controller.app.get(FailoverStore).begin({ cluster, expectedEpoch, trigger: 'manual', fromAddress: null, actor: 'test', lease, event: { data: {} } });

  it('raises the epoch only for the lease holder, from the epoch it read, once', async () => {
    const leadership = controller.app.get(LeadershipService);
    const lease = { holder: leadership.identity, term: leadership.currentTerm };
    await expect(begin(0, { holder: 'someone-else/0', term: lease.term })).rejects.toBeInstanceOf(FencedError);
    await expect(begin(0, { holder: lease.holder, term: lease.term + 1 })).rejects.toBeInstanceOf(FencedError);
    const first = await begin(0, lease);
    expect(first.epoch).toBe(1);
    await expect(begin(0, lease)).rejects.toBeInstanceOf(FencedError); // the epoch moved on
    const rows = await db.query('SELECT epoch::int AS epoch FROM clusters WHERE id = $1', [cluster.id]);
    expect(rows.rows[0].epoch).toBe(1);
  });

  it('refuses a role written under a superseded epoch', async () => {
    await expect(db.query(`UPDATE nodes SET role = 'replica', role_epoch = 0 WHERE id = $1`, [nodeId])).rejects.toMatchObject({ code: 'VGE01' });
    await db.query(`UPDATE nodes SET role = 'replica', role_epoch = 1 WHERE id = $1`, [nodeId]); // the current epoch passes
  });

  it('fences every write of a failover on (epoch, term): an equal epoch under a stale term changes nothing', async () => {
    const store = controller.app.get(FailoverStore);
    const leadership = controller.app.get(LeadershipService);
    const lease = { holder: leadership.identity, term: leadership.currentTerm };
    const begun = await begin(1, lease); // epoch 2
    const fence = begun.fence;
    const stale = { ...fence, term: fence.term - 1 }; // a paused leader of an earlier term, same epoch
    const behind = { ...fence, epoch: fence.epoch - 1 };
    const event = { type: 'master.changed', actor: 'test' };
    for (const token of [stale, behind]) {
      await expect(store.recordMaster(begun.id, token, nodeId, event)).rejects.toBeInstanceOf(FencedError);
      await expect(store.fencedStep(begun.id, token, 'promoted', 'succeeded', new Date(), {})).rejects.toBeInstanceOf(FencedError);
      await expect(store.transition(begun.id, token, 'promoting')).rejects.toBeInstanceOf(FencedError);
      await expect(store.finish(begun.id, 'failed', null, 'x', { type: 'failover.failed', actor: 'test' }, token)).rejects.toBeInstanceOf(FencedError);
    }
    const record = await db.query(
      `SELECT state, outcome, (SELECT count(*)::int FROM failover_steps WHERE failover_id = $1) AS steps FROM failovers WHERE id = $1`,
      [begun.id],
    );
    expect(record.rows[0]).toEqual({ state: 'decided', outcome: 'running', steps: 0 });
    const role = await db.query(`SELECT role, role_epoch::int AS epoch FROM nodes WHERE id = $1`, [nodeId]);
    expect(role.rows[0]).toEqual({ role: 'replica', epoch: 1 });
    // The current token writes.
    await store.fencedStep(begun.id, fence, 'decided', 'succeeded', new Date(), {});
    await store.recordMaster(begun.id, fence, nodeId, event);
    await store.finish(begun.id, 'succeeded', `${redis.host}:${redis.port}`, null, { type: 'failover.succeeded', actor: 'test' }, fence);
    expect((await db.query(`SELECT state FROM failovers WHERE id = $1`, [begun.id])).rows[0].state).toBe('done');
  });

  it('refuses a deposed leader: once another replica holds the lease, its epoch raise is rejected', async () => {
    const leadership = controller.app.get(LeadershipService);
    const stale = { holder: leadership.identity, term: leadership.currentTerm };
    await db.query(`UPDATE controller_leases SET holder = 'other/1', term = term + 1, expires_at = now() + interval '1 minute' WHERE scope = 'leader'`);
    await expect(begin(2, stale)).rejects.toBeInstanceOf(FencedError);
    await waitFor(async () => !leadership.isLeader(), 5000, 'this replica to step down');
  });
});
