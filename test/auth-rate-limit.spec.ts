import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentinelService } from '../apps/controller/src/sentinel/sentinel.service.js';
import { ADMIN_TOKEN, type Api, freshDatabase, startTestController, type TestController } from './support/controller.js';
import { cmd, rawConnect } from './support/resp.js';

/** A GET from a chosen loopback source address (127.0.0.2 is a client of its own). */
function getFrom(localAddress: string, url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('failed authentication rate limit', () => {
  let controller: TestController;
  let api: Api;

  beforeAll(async () => {
    controller = await startTestController(await freshDatabase(), {
      AUTH_FAILURE_LIMIT: '5',
      AUTH_FAILURE_WINDOW_MS: '60000',
      SENTINEL_PORT: '0',
      SENTINEL_PASSWORD: 'sentinel-pass-0123',
    });
    api = controller.api;
  });

  afterAll(() => controller?.close());

  it('answers 429 with Retry-After to an address past the limit, records it once, and spares other addresses and verified tokens', async () => {
    const viewer = (await api('POST', '/api/v1/tokens', { body: { name: 'viewer', role: 'viewer' } })).body.token;
    const fresh = (await api('POST', '/api/v1/tokens', { body: { name: 'fresh', role: 'viewer' } })).body.token;
    // The admin token is verified (cached) before the guessing starts.
    expect((await api('GET', '/api/v1/whoami')).status).toBe(200);
    for (let i = 0; i < 6; i++) expect((await api('GET', '/api/v1/clusters', { token: `vgl_guess${i}_${'x'.repeat(40)}` })).status).toBe(401);

    const limited = await api('GET', '/api/v1/clusters', { token: 'vgl_guess7_yyyy' });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ error: 'rate_limited', message: expect.stringContaining('too many failed authentications') });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Not even a right token is verified from that address meanwhile (it would stop no guessing) …
    expect((await api('GET', '/api/v1/clusters', { token: fresh })).status).toBe(429);
    // … but one verified before still works, and so does another address.
    expect((await api('GET', '/api/v1/clusters', { token: ADMIN_TOKEN })).status).toBe(200);
    expect(await getFrom('127.0.0.2', `${controller.url}/api/v1/clusters`, viewer)).toBe(200);
    // The fast master route counts the same way.
    expect((await api('GET', '/api/v1/clusters/none/master', { token: 'vgl_guess8_zzzz' })).status).toBe(429);

    const events = (await api('GET', '/api/v1/events?type=auth.rate_limited')).body.items;
    expect(events).toHaveLength(1);
    expect(events[0].data).toMatchObject({ address: expect.stringContaining('127.0.0.1'), failures: 6, windowMs: 60000 });
  });

  it('counts AUTH on the Sentinel endpoint the same way, answering an error instead of verifying once the address is blocked', async () => {
    const port = controller.app.get(SentinelService).port;
    const unverified = (await api('POST', '/api/v1/tokens', { body: { name: 'sentinel-op', role: 'operator' } })).body.token;
    const c = await rawConnect(port, '127.0.0.1', '127.0.0.3');
    try {
      let seen = 0;
      for (let i = 0; i < 6; i++) {
        c.send(cmd('AUTH', `wrong-${i}`));
        await c.until((t) => (t.match(/\r\n/g) ?? []).length > seen);
        seen++;
      }
      const refusals = c
        .received()
        .split('\r\n')
        .filter((l) => l.startsWith('-WRONGPASS'));
      expect(refusals).toHaveLength(6);
      // Blocked: neither an unverified token nor even the right Sentinel password is checked.
      for (const secret of [unverified, 'sentinel-pass-0123']) {
        c.send(cmd('AUTH', secret));
        const text = await c.until((t) => (t.match(/\r\n/g) ?? []).length > seen);
        expect(text.split('\r\n')[seen]).toMatch(/^-ERR too many failed authentications from 127\.0\.0\.3/);
        seen++;
      }
    } finally {
      c.close();
    }
  });
});
