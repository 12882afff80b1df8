import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis, waitFor } from '../../../../libs/testing/src/index.js';
import { cmd, rawConnect } from '../../../../test/support/resp.js';
import { MasterLinks } from './master-links.js';
import { SentinelConnection, type SentinelBackend } from './sentinel-connection.js';
import type { MasterFacts } from './sentinel-format.js';

/** Blocks this thread (and its event loop) for `ms`, as a busy controller would be. */
function stall(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// The order a master's crash is seen in: the client's request for the master and the end of this
// process's link to it can be read in the same turn of the event loop, the request first. The answer
// must still carry `disconnected` (node-redis 5 otherwise stays on the dead master). A real redis-server
// is killed while the endpoint's event loop is blocked, so both are read in the next turn, in the order
// they arrived: the request, then the end of the link.
describe('the Sentinel endpoint when a master crashes', () => {
  let redis: RedisServer;
  let server: Server;
  let port = 0;
  const links = new MasterLinks();

  beforeAll(async () => {
    redis = await startRedis();
    const facts = (): MasterFacts => ({
      host: redis.host,
      port: redis.port,
      runId: null,
      state: 'up',
      disconnected: links.closedSince('orders', redis) !== undefined,
      stateSince: 0,
      lastOkAt: 0,
      infoReadAt: null,
      roleReported: 'master',
      offset: null,
      masterHost: null,
      masterPort: null,
      linkUp: null,
      linkDownSinceS: null,
      priority: 100,
      name: 'orders',
      epoch: 0,
      quorum: 2,
      downAfterMs: 5000,
      failoverTimeoutMs: 60_000,
      numSlaves: 0,
      numOtherSentinels: 0,
      failoverInProgress: false,
    });
    const backend = {
      runId: 'f'.repeat(40),
      password: undefined,
      master: (name: string) => (name === 'orders' ? facts() : undefined),
      masters: () => [facts()],
    } as unknown as SentinelBackend;
    server = createServer(
      (s) => new SentinelConnection(s, 1, backend, { connectionsReceived: 0, commandsProcessed: 0, rejectedConnections: 0 }, () => undefined),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
    links.follow(new Map([['orders', { host: redis.host, port: redis.port }]]));
    await waitFor(async () => Number(/connected_clients:(\d+)/.exec(String(await redis.call('INFO', 'clients')))?.[1]) >= 1, 5000, 'the link to connect');
  });
  afterAll(async () => {
    links.close();
    server.close();
    await redis.stop().catch(() => undefined);
  });

  it('answers SENTINEL MASTER read in the same turn as the link closing with the disconnected flag', async () => {
    const c = await rawConnect(port);
    c.send(cmd('SENTINEL', 'master', 'orders'));
    // The request is in the endpoint's socket buffer; the master dies; both wait for the next turn.
    redis.signal('SIGKILL');
    stall(300);
    const reply = await c.until((t) => /flags\r\n\$\d+\r\n[^\r]*\r\n/.test(t), 3000);
    const flags = /flags\r\n\$\d+\r\n([^\r]*)\r\n/.exec(reply)?.[1];
    expect(flags).toBe('master,disconnected');
    c.close();
  });
});
