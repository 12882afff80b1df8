import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, waitFor } from '../../../../libs/testing/src/index.js';
import { MasterLinks } from './master-links.js';

describe('MasterLinks', () => {
  const links = new MasterLinks();
  afterEach(() => links.close());

  it('reports when an established link to the master closed, and nothing for a node it never reached', async () => {
    const accepted: Socket[] = [];
    const server: Server = createServer((s) => accepted.push(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const master = { host: '127.0.0.1', port: (server.address() as { port: number }).port };
    const unreachable = { host: '127.0.0.1', port: await freePort() };
    links.follow(
      new Map([
        ['orders', master],
        ['carts', unreachable],
      ]),
    );
    await waitFor(async () => accepted.length === 1, 2000, 'the link to connect');
    expect(links.closedSince('orders', master)).toBeUndefined();
    const before = Date.now();
    server.close();
    accepted[0]!.destroy(); // the master dies
    const closedAt = await waitFor(async () => links.closedSince('orders', master), 2000, 'the close to be seen');
    expect(closedAt).toBeGreaterThanOrEqual(before);
    // Asked about another address (the master moved), or about a node never reached: no opinion.
    expect(links.closedSince('orders', unreachable)).toBeUndefined();
    expect(links.closedSince('carts', unreachable)).toBeUndefined();
    // The master moved: the old link is dropped.
    links.follow(new Map([['orders', unreachable]]));
    expect(links.closedSince('orders', master)).toBeUndefined();
  });
});
