import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, freshDatabase, startTestController, type TestController } from './support/controller.js';

/**
 * Webhooks are requests the controller makes on an admin's behalf: by default they may not reach
 * loopback, private or link-local addresses (the controller's own host, its network, cloud metadata).
 */
describe('webhook targets', () => {
  let controller: TestController;
  let api: Api;
  let receiver: Server;
  let hits = 0;

  beforeAll(async () => {
    controller = await startTestController(await freshDatabase());
    api = controller.api;
    receiver = createServer((_req, res) => {
      hits++;
      res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    receiver?.close();
    await controller?.close();
  });

  it('refuses loopback, private and link-local targets with 400 on url, and creates nothing', async () => {
    const port = (receiver.address() as AddressInfo).port;
    for (const [url, why] of [
      [`http://127.0.0.1:${port}/hook`, '127.0.0.1 is a loopback address'],
      [`http://[::1]:${port}/hook`, '::1 is a loopback address'],
      [`http://localhost:${port}/hook`, 'localhost is a loopback name'],
      ['http://169.254.169.254/latest/meta-data/', '169.254.169.254 is a link-local address'],
      ['https://10.0.0.8/hook', '10.0.0.8 is a private address'],
      ['https://[fd12::1]/hook', 'fd12::1 is a unique-local address'],
    ]) {
      const res = await api('POST', '/api/v1/webhooks', { body: { url } });
      expect(res.status, url).toBe(400);
      expect(res.body.details).toEqual([{ field: 'url', reason: `${why}: private targets need WEBHOOK_ALLOW_PRIVATE=true` }]);
    }
    expect((await api('GET', '/api/v1/webhooks')).body.items).toEqual([]);
    expect(hits).toBe(0);
    // A public name is accepted (it is checked again, resolved, at each delivery).
    expect((await api('POST', '/api/v1/webhooks', { body: { url: 'https://hooks.example.com/vigil' } })).status).toBe(201);
  });
});
