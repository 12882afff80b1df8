import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../libs/testing/src/index.js';
import { type Api, freshDatabase, startTestController, type TestController } from './support/controller.js';

describe('token expiry and revocation', () => {
  let controller: TestController;
  let other: TestController;
  let api: Api;

  beforeAll(async () => {
    const db = await freshDatabase();
    controller = await startTestController(db, { CONTROLLER_NAME: 'ctl-a' });
    other = await startTestController(db, { CONTROLLER_NAME: 'ctl-b' });
    api = controller.api;
  });

  afterAll(async () => {
    await other?.close();
    await controller?.close();
  });

  it('a token revoked through one replica stops working on another at once, not after its 30 s cache', async () => {
    const created = (await api('POST', '/api/v1/tokens', { body: { name: 'revoke-me', role: 'operator' } })).body;
    // Verified, hence cached, on the other replica.
    expect((await other.api('GET', '/api/v1/whoami', { token: created.token })).status).toBe(200);
    // The master lookup's own route answers a remembered token without asking PostgreSQL (404: no such cluster, but authorized).
    expect((await other.api('GET', '/api/v1/clusters/nope/master', { token: created.token })).status).toBe(404);
    expect((await api('DELETE', `/api/v1/tokens/${created.id}`)).status).toBe(200);
    const refused = await waitFor(
      async () => {
        const res = await other.api('GET', '/api/v1/whoami', { token: created.token });
        return res.status === 401 ? res : undefined;
      },
      5_000,
      'the revocation to reach the other replica',
    );
    expect(refused.body.message).toBe('invalid or revoked token');
    const lookup = await other.api('GET', '/api/v1/clusters/nope/master', { token: created.token });
    expect([lookup.status, lookup.body.message]).toEqual([401, 'invalid or revoked token']);
  });

  it('accepts a token until its expiresAt, then answers 401 "token expired" (even from the cache)', async () => {
    const expiresAt = new Date(Date.now() + 5000).toISOString();
    const created = await api('POST', '/api/v1/tokens', { body: { name: 'short-lived', role: 'viewer', expiresAt } });
    expect(created.status).toBe(201);
    expect(created.body.expiresAt).toBe(expiresAt);
    const token = created.body.token;
    // Used once: now in the authentication cache, which outlives the token.
    expect((await api('GET', '/api/v1/whoami', { token })).status).toBe(200);
    const refused = await waitFor(
      async () => {
        const res = await api('GET', '/api/v1/clusters', { token });
        return res.status === 401 ? res : undefined;
      },
      15_000,
      'the token to expire',
    );
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expiresAt));
    expect(refused.body).toMatchObject({ error: 'unauthenticated', message: 'token expired' });
    // The master lookup's own route, which answers remembered tokens without a promise, refuses it too.
    expect((await api('GET', '/api/v1/clusters/nope/master', { token })).body).toMatchObject({ error: 'unauthenticated', message: 'token expired' });
    const listed = (await api('GET', '/api/v1/tokens')).body.items.find((t: { name: string }) => t.name === 'short-lived');
    expect(listed.expiresAt).toBe(expiresAt);
    const event = (await api('GET', '/api/v1/events?type=token.created')).body.items.find((e: any) => e.data.name === 'short-lived');
    expect(event.data.expiresAt).toBe(expiresAt);
  });

  it('refuses an expiresAt in the past or not a date, naming the field', async () => {
    for (const expiresAt of [new Date(Date.now() - 1000).toISOString(), 'tomorrow']) {
      const res = await api('POST', '/api/v1/tokens', { body: { name: 'bad-expiry', role: 'viewer', expiresAt } });
      expect(res.status).toBe(400);
      expect(res.body.details[0].field).toBe('expiresAt');
    }
    expect((await api('GET', '/api/v1/tokens')).body.items.some((t: { name: string }) => t.name === 'bad-expiry')).toBe(false);
  });
});
