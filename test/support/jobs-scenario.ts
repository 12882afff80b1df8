import { expect } from 'vitest';
import { freePort, type RedisServer, startRedis, waitFor } from '../../libs/testing/src/index.js';
import type { TestController } from './controller.js';

async function untilRole(ctl: TestController, name: string, port: number, role: string): Promise<void> {
  await waitFor(
    async () => {
      const res = await ctl.api('GET', `/api/v1/clusters/${name}/nodes`);
      return res.body.items.find((n: { port: number }) => n.port === port)?.role === role;
    },
    20_000,
    `the queued discovery job to record ${port} as ${role}`,
    100,
  );
}

/**
 * The retryable side effect both job backends must carry: a node that does not answer when it joins
 * is retried by a queued job until it does, and its role lands in the topology. Done twice for one
 * cluster, so a finished job cannot swallow the next one.
 */
export async function discoveryRetriedThroughQueue(ctl: TestController, name: string): Promise<RedisServer[]> {
  const first = await freePort();
  const created = await ctl.api('POST', '/api/v1/clusters', { body: { name, quorum: 1, downAfterMs: 1000, nodes: [{ host: '127.0.0.1', port: first }] } });
  expect(created.status).toBe(201);
  expect(created.body.nodes[0].role).toBe('unknown');
  const master = await startRedis({ port: first });
  await untilRole(ctl, name, first, 'master');

  const second = await freePort();
  const added = await ctl.api('POST', `/api/v1/clusters/${name}/nodes`, { body: { host: '127.0.0.1', port: second } });
  expect(added.status).toBe(201);
  expect(added.body.role).toBe('unknown');
  const replica = await startRedis({ port: second, replicaOf: { host: '127.0.0.1', port: first } });
  await untilRole(ctl, name, second, 'replica');
  expect((await ctl.api('GET', `/api/v1/clusters/${name}`)).body.master).toEqual({ host: '127.0.0.1', port: first });
  return [master, replica];
}
