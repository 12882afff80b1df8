import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy, waitFor } from '../libs/testing/src/index.js';
import { freshDatabase, startTestController, type TestController } from './support/controller.js';

/**
 * An expired token is refused from memory after its first refusal: no second scrypt (about 50 ms of
 * CPU each) and no query. It does not count as a failed authentication, so without this anyone holding
 * an expired token could make a replica hash without limit. Observed as a fact: the replica still
 * refuses it as expired once its path to PostgreSQL is cut, which it could not do by asking PostgreSQL.
 */
describe('an expired token is refused from the verification cache', () => {
  let direct: TestController;
  let proxied: TestController;
  let proxy: TcpProxy;

  beforeAll(async () => {
    const db = new URL(await freshDatabase());
    direct = await startTestController(db.toString(), { CONTROLLER_NAME: 'ctl-direct' });
    proxy = await startTcpProxy({ host: db.hostname, port: Number(db.port) });
    const viaProxy = new URL(db);
    viaProxy.host = `${proxy.host}:${proxy.port}`;
    proxied = await startTestController(viaProxy.toString(), { CONTROLLER_NAME: 'ctl-proxied' });
  });

  afterAll(async () => {
    proxy?.restore();
    await proxied?.close();
    await direct?.close();
    await proxy?.close();
  });

  it('answers 401 "token expired" without PostgreSQL once it has refused the token', async () => {
    const { token } = (
      await direct.api('POST', '/api/v1/tokens', { body: { name: 'brief', role: 'admin', expiresAt: new Date(Date.now() + 1000).toISOString() } })
    ).body;
    // The fact, on the other replica: the token has expired (the proxied replica has never seen it).
    await waitFor(async () => (await direct.api('GET', '/api/v1/whoami', { token })).status === 401, 10_000, 'the token to expire');
    const first = await proxied.api('GET', '/api/v1/whoami', { token });
    expect(first.status).toBe(401);
    expect(first.body.message).toBe('token expired');

    proxy.cut('reset');
    for (let i = 0; i < 3; i++) {
      const again = await proxied.api('GET', '/api/v1/clusters', { token });
      expect(again.status, again.text).toBe(401);
      expect(again.body.message).toBe('token expired');
    }
    proxy.restore();
  });
});
