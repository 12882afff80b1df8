import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort, waitFor } from '../../../../libs/testing/src/index.js';
import { MasterLinks } from './master-links.js';

describe('MasterLinks', () => {
  let links: MasterLinks;
  beforeEach(() => {
    links = new MasterLinks();
  });
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

  it('clears the flag at once for a master that only closed an idle link (Redis timeout, CLIENT KILL): the link is re-opened at once', async () => {
    const accepted: Socket[] = [];
    const server: Server = createServer((s) => accepted.push(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const master = { host: '127.0.0.1', port: (server.address() as { port: number }).port };
      links.follow(new Map([['orders', master]]));
      await waitFor(async () => accepted.length === 1, 2000, 'the link to connect');
      for (let i = 1; i <= 3; i++) {
        const closed = Date.now();
        accepted[i - 1]!.destroy(); // the master closes the idle client and keeps serving
        await waitFor(async () => accepted.length === i + 1 && links.closedSince('orders', master) === undefined, 2000, 'the link re-opened', 2);
        // Flagged only for the re-open's time, not until a retry a second later.
        expect(Date.now() - closed).toBeLessThan(300);
      }
    } finally {
      server.close();
      for (const s of accepted) s.destroy();
    }
  });
});
