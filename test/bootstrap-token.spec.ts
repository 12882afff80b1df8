import { afterEach, describe, expect, it } from 'vitest';
import { freshDatabase, startTestController, type TestController } from './support/controller.js';

/** VIGIL_ADMIN_TOKEN is authoritative across restarts: a changed or removed value disables the old one. */
describe('bootstrap admin token', () => {
  let ctl: TestController | undefined;
  afterEach(async () => {
    await ctl?.close();
    ctl = undefined;
  });

  const statusWith = async (token: string) => (await ctl!.api('GET', '/api/v1/clusters', { token })).status;

  it('follows the variable: seeded, rotated, then revoked when unset', async () => {
    const url = await freshDatabase();
    const first = 'first-admin-token-0123456789';
    const second = 'second-admin-token-0123456789';

    ctl = await startTestController(url, { VIGIL_ADMIN_TOKEN: first });
    expect(await statusWith(first)).toBe(200);
    await ctl.close();

    ctl = await startTestController(url, { VIGIL_ADMIN_TOKEN: second });
    expect(await statusWith(first)).toBe(401);
    expect(await statusWith(second)).toBe(200);
    // A minted admin token outlives the bootstrap one.
    const minted = (await ctl.api('POST', '/api/v1/tokens', { token: second, body: { name: 'root', role: 'admin' } })).body.token;
    await ctl.close();

    ctl = await startTestController(url, { VIGIL_ADMIN_TOKEN: '' });
    expect(await statusWith(second)).toBe(401);
    expect(await statusWith(minted)).toBe(200);
    const revoked = (await ctl.api('GET', '/api/v1/events?type=token.revoked', { token: minted })).body.items;
    expect(revoked).toMatchObject([{ actor: 'controller:test-controller', data: { name: 'bootstrap-admin', reason: 'VIGIL_ADMIN_TOKEN is not set' } }]);
  });
});
