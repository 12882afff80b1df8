import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthService } from '../apps/controller/src/auth/auth.service.js';
import { freshDatabase, startTestController, type TestController } from './support/controller.js';

/**
 * Requests presenting a token that is not (or no longer) in the verification cache share one
 * verification: one lookup and one scrypt (tens of ms of CPU), not one per request in flight. Without
 * this, a busy client's token lapsing from the cache made every request in flight hash at once (p99
 * spikes of seconds under load). Counted on the real repository the service queries through.
 */
describe('token verification under concurrent requests', () => {
  let controller: TestController;

  beforeAll(async () => {
    controller = await startTestController(await freshDatabase());
  });
  afterAll(() => controller?.close());

  it('verifies a token once for 32 requests that present it at the same time', async () => {
    const { token } = (await controller.api('POST', '/api/v1/tokens', { body: { name: 'dashboard', role: 'viewer' } })).body;
    const tokens = (controller.app.get(AuthService) as unknown as { tokens: { findOneBy: (...a: unknown[]) => Promise<unknown> } }).tokens;
    const findOneBy = tokens.findOneBy.bind(tokens);
    let lookups = 0;
    tokens.findOneBy = (...args: unknown[]) => {
      lookups++;
      return findOneBy(...args);
    };
    try {
      const answers = await Promise.all(Array.from({ length: 32 }, () => controller.api('GET', '/api/v1/whoami', { token })));
      expect(answers.map((a) => a.status)).toEqual(Array(32).fill(200));
      expect(lookups).toBe(1);
      // A wrong secret shares nothing with it, and is refused.
      expect((await controller.api('GET', '/api/v1/whoami', { token: `${token}x` })).status).toBe(401);
    } finally {
      tokens.findOneBy = findOneBy;
    }
  });
});
