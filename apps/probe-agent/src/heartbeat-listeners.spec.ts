import { getEventListeners } from 'node:events';
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAgentConfig } from './config.js';
import { HeartbeatService } from './heartbeat.service.js';

/**
 * The heartbeat loops wait on timers that the shutdown signal cuts short. Each wait must take its abort
 * listener off the signal when the timer fires: the signal lives as long as the agent, so a listener
 * left behind per heartbeat is a leak (found by the soak: MaxListenersExceededWarning after a minute).
 */
describe('HeartbeatService', () => {
  let server: Server | undefined;
  let service: HeartbeatService | undefined;
  afterEach(async () => {
    await service?.onApplicationShutdown();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('keeps at most one abort listener per controller however many heartbeats it sends', async () => {
    let heartbeats = 0;
    let reached: () => void = () => undefined;
    const enough = new Promise<void>((resolve) => (reached = resolve));
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url?.endsWith('/heartbeat') && ++heartbeats === 50) reached();
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'a', heartbeatIntervalMs: 2 }));
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    service = new HeartbeatService(loadAgentConfig({ VIGIL_CONTROLLER_URL: `http://127.0.0.1:${port}`, VIGIL_AGENT_TOKEN: 't', VIGIL_AGENT_NAME: 'hb-test' }));
    service.onApplicationBootstrap();
    await enough;
    const signal = (service as unknown as { abort: AbortController }).abort.signal;
    expect(getEventListeners(signal, 'abort').length).toBeLessThanOrEqual(1);
  });
});
