/**
 * A controller replica cut from PostgreSQL by a *silent* partition (packets dropped, no reset: its
 * connections look up for minutes) must stop vouching for its topology within a few seconds, as it does
 * when PostgreSQL refuses connections: other replicas may have recorded a new master meanwhile. Real
 * PostgreSQL behind the test's TCP proxy, whose blackhole mode stops every byte without closing anything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createDatabase, type RedisServer, startReplicationGroup, startTcpProxy, type TcpProxy, waitFor } from '../libs/testing/src/index.js';
import { startTestController, type TestController } from './support/controller.js';

describe('a controller cut from PostgreSQL by a silent partition', () => {
  let proxy: TcpProxy;
  let controller: TestController;
  let group: RedisServer[] = [];

  beforeAll(async () => {
    const databaseUrl = new URL(await createDatabase(inject('pgAdminUrl')));
    proxy = await startTcpProxy({ host: databaseUrl.hostname, port: Number(databaseUrl.port) });
    databaseUrl.port = String(proxy.port);
    controller = await startTestController(databaseUrl.toString());
    group = await startReplicationGroup(1);
    const created = await controller.api('POST', '/api/v1/clusters', {
      body: { name: 'orders', nodes: group.map(({ host, port }) => ({ host, port })), quorum: 1, downAfterMs: 1000 },
    });
    expect(created.status, created.text).toBe(201);
  });

  afterAll(async () => {
    proxy?.restore();
    await proxy?.close();
    await controller?.close().catch(() => undefined);
    await Promise.all(group.map((s) => s.stop()));
  });

  it('stops answering the master within seconds instead of vouching for a snapshot it can no longer refresh', { timeout: 30_000 }, async () => {
    await waitFor(async () => (await controller.api('GET', '/api/v1/clusters/orders/master')).status === 200, 10_000, 'the master published');
    proxy.cut('blackhole');
    // LISTEN is pinged every 500 ms and dropped after 1 s without an answer; the snapshot is then vouched for
    // 2 s after its last load at most. No agent watches the cluster, so the failsafe cannot vouch either: 503.
    const answer = await waitFor(
      async () => {
        const r = await controller.api('GET', '/api/v1/clusters/orders/master');
        return r.status === 503 ? r : undefined;
      },
      8_000,
      'the master route to refuse (503)',
      100,
    );
    expect(answer.headers.get('retry-after')).toBe('1');
  });
});
