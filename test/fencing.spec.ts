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
    // A stale failover naming another master would turn this node into a replica: refused.
    const otherMaster = '00000000-0000-4000-8000-000000000000';
    await expect(controller.app.get(FailoverStore).recordMaster(cluster.id, 0, otherMaster, { type: 'master.changed', actor: 'test' })).rejects.toMatchObject({
      message: expect.stringMatching(/stale epoch/),
    });
    await db.query(`UPDATE nodes SET role = 'replica', role_epoch = 1 WHERE id = $1`, [nodeId]); // the current epoch passes
  });

  it('refuses a deposed leader: once another replica holds the lease, its epoch raise is rejected', async () => {
    const leadership = controller.app.get(LeadershipService);
    const stale = { holder: leadership.identity, term: leadership.currentTerm };
    await db.query(`UPDATE controller_leases SET holder = 'other/1', term = term + 1, expires_at = now() + interval '1 minute' WHERE scope = 'leader'`);
    await expect(begin(1, stale)).rejects.toBeInstanceOf(FencedError);
    await waitFor(async () => !leadership.isLeader(), 5000, 'this replica to step down');
  });
});
