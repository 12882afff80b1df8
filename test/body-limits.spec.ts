import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, freshDatabase, startTestController, type TestController } from './support/controller.js';

/** Hostile bodies get a 400 naming the body, change nothing, and the controller keeps serving. */
describe('request body limits', () => {
  let controller: TestController;
  let api: Api;

  beforeAll(async () => {
    controller = await startTestController(await freshDatabase());
    api = controller.api;
  });

  afterAll(() => controller?.close());

  const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

  it('refuses a deeply nested JSON body with 400 on every kind of route, and nothing changes', async () => {
    const before = (await api('GET', '/api/v1/tokens')).body.items.length;
    for (const depth of [33, 5000, 100_000]) {
      for (const [method, path, raw] of [
        ['POST', '/api/v1/clusters', `{"name":"deep","nodes":${nested(depth)}}`],
        ['POST', '/api/v1/tokens', nested(depth)],
        ['PATCH', '/api/v1/clusters/none', `{"quorum":${nested(depth)}}`],
        ['POST', '/api/v1/webhooks', `{"url":"https://example.com","types":${nested(depth)}}`],
      ] as const) {
        const res = await api(method, path, { raw });
        expect(res.status, `${method} ${path} at depth ${depth}`).toBe(400);
        expect(res.body).toMatchObject({
          error: 'validation_failed',
          details: [{ field: 'body', reason: 'must not nest objects or arrays deeper than 32 levels' }],
        });
      }
    }
    // A body at the limit is read as usual (and refused for what it says, not for its shape).
    const atLimit = await api('POST', '/api/v1/tokens', { raw: `{"name":"x","role":"viewer","extra":${nested(31)}}` });
    expect(atLimit.status).toBe(400);
    expect(atLimit.body.details).toEqual([{ field: 'extra', reason: 'property extra should not exist' }]);
    expect((await api('GET', '/api/v1/tokens')).body.items.length).toBe(before);
    expect((await api('GET', '/api/v1/clusters')).body.items).toEqual([]);
    expect((await fetch(`${controller.url}/health/live`)).status).toBe(200);
  });
});
