import { expect } from 'vitest';
import { freePort, type RedisServer, startRedis, waitFor } from '../../libs/testing/src/index.js';
import type { TestController } from './controller.js';

/**
 * The retryable side effect both job backends must carry: a node that does not answer at cluster
 * creation is retried by a queued job until it does, and its role lands in the topology.
 */
export async function discoveryRetriedThroughQueue(ctl: TestController, name: string): Promise<RedisServer> {
  const port = await freePort();
  const created = await ctl.api('POST', '/api/v1/clusters', { body: { name, quorum: 1, downAfterMs: 1000, nodes: [{ host: '127.0.0.1', port }] } });
  expect(created.status).toBe(201);
  expect(created.body.nodes[0].role).toBe('unknown');
  const redis = await startRedis({ port });
  const view = await waitFor(
    async () => {
      const res = await ctl.api('GET', `/api/v1/clusters/${name}`);
      return res.body.nodes[0].role === 'master' ? res.body : undefined;
    },
    20_000,
    'the queued discovery job to find the master',
    100,
  );
  expect(view.master).toEqual({ host: '127.0.0.1', port });
  return redis;
}
