import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type RedisServer, startRedis, waitFor } from '../libs/testing/src/index.js';
import { ADMIN_TOKEN, type ControllerProcess, freshDatabase, startControllerProcess } from './support/controller.js';

/** One GET on a new connection: its status, or the error code that ended it. */
function lookup(url: string): Promise<{ status?: number; body?: string; error?: string }> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.end();
  });
}

/**
 * A controller stopped with SIGTERM (a rolling restart, a deploy) drains instead of cutting: requests in
 * flight are answered, new connections are refused (so a client asks the next endpoint at once), and a
 * parked master watch is answered with the current master instead of being reset. Connections still in
 * the kernel's listen queue when the listener closes are reset before any request is read, as with any
 * server that stops listening.
 */
describe('graceful shutdown', () => {
  let redis: RedisServer;
  let ctl: ControllerProcess;

  beforeAll(async () => {
    redis = await startRedis();
    ctl = await startControllerProcess(await freshDatabase(), {
      CONTROLLER_NAME: 'draining',
      SENTINEL_PORT: String(await freePort()),
      LOG_LEVEL: 'info',
    });
    const created = await ctl.api('POST', '/api/v1/clusters', {
      body: { name: 'drain', quorum: 1, downAfterMs: 1000, nodes: [{ host: redis.host, port: redis.port }] },
    });
    expect(created.status, created.text).toBe(201);
    await waitFor(async () => (await ctl.api('GET', '/api/v1/clusters/drain/master')).status === 200, 10_000, 'the master published');
  });

  afterAll(async () => {
    await ctl?.process.stop('SIGKILL');
    await redis?.stop();
  });

  it('answers what is in flight and the parked watches, then refuses new connections', async () => {
    const current = (await ctl.api('GET', '/api/v1/clusters/drain/master')).body as { port: number; epoch: number };
    const master = `${ctl.url}/api/v1/clusters/drain/master`;
    const watch = lookup(`${master}?waitEpochAfter=${current.epoch}&timeoutMs=60000`);

    // Eight clients looking the master up back to back, each on a new connection, until refused.
    const outcomes = new Map<string, number>();
    let stopping = false;
    const loops = Array.from({ length: 8 }, async () => {
      for (let refused = 0; refused < 3;) {
        const r = await lookup(master);
        const key = r.error ?? String(r.status);
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        if (r.error === 'ECONNREFUSED' && stopping) refused++;
      }
    });
    await waitFor(async () => (outcomes.get('200') ?? 0) >= 200, 20_000, '200 lookups answered');

    stopping = true;
    const signalled = Date.now();
    ctl.process.child.kill('SIGTERM');
    const watched = await watch;
    await Promise.all(loops);
    const code = await ctl.process.exited;
    console.log(`graceful shutdown: lookups ${JSON.stringify(Object.fromEntries(outcomes))}; watch answered after ${Date.now() - signalled} ms; exit ${code}`);

    // The watch parked on this replica got the current master, not a reset.
    expect(watched.error).toBeUndefined();
    expect(watched.status).toBe(200);
    expect(JSON.parse(watched.body!)).toMatchObject({ port: redis.port, epoch: current.epoch });
    // Lookups went on being answered until the listener closed; after it, connections are refused (or
    // reset while still in the listen queue, before any request was read), so clients ask the next endpoint.
    expect(outcomes.get('ECONNREFUSED')).toBeGreaterThan(0);
    // Nothing was in flight when the drain ended: every request that had been read was answered.
    expect(ctl.process.output(), ctl.process.output().slice(-3000)).toMatch(/"cut":0,"msg":"HTTP drained"/);
    // Nest re-raises the signal once it has shut down.
    expect(code === 0 || ctl.process.child.signalCode === 'SIGTERM').toBe(true);
  });
});
