import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentinelService } from '../apps/controller/src/sentinel/sentinel.service.js';
import { waitFor } from '../libs/testing/src/index.js';
import { freshDatabase, startTestController, type TestController } from './support/controller.js';

interface Client {
  socket: Socket;
  received: () => string;
  closed: Promise<void>;
}

async function client(port: number): Promise<Client> {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (text += d));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return { socket, received: () => text, closed };
}

/** SENTINEL_MAX_CLIENTS bounds the connections (and so the buffering) the endpoint serves, as Redis' maxclients. */
describe('Sentinel endpoint: maxclients', () => {
  let controller: TestController;
  let port: number;
  const open: Client[] = [];

  beforeAll(async () => {
    controller = await startTestController(await freshDatabase(), { SENTINEL_PORT: '0', SENTINEL_MAX_CLIENTS: '5' });
    port = controller.app.get(SentinelService).port!;
  });

  afterAll(async () => {
    for (const c of open) c.socket.destroy();
    await controller?.close();
  });

  it('serves up to the limit, tells the next client why and closes it, and serves again once one leaves', async () => {
    for (let i = 0; i < 5; i++) {
      const c = await client(port);
      open.push(c);
      c.socket.write('PING\r\n');
      await waitFor(async () => c.received() === '+PONG\r\n', 5000, `client ${i} answered`);
    }
    const extra = await client(port);
    await extra.closed;
    expect(extra.received()).toBe('-ERR max number of clients reached\r\n');

    open.shift()!.socket.destroy();
    await waitFor(
      async () => {
        const again = await client(port);
        again.socket.write('INFO stats\r\n');
        const answered = await Promise.race([
          waitFor(async () => /rejected_connections:(\d+)/.exec(again.received()), 2000, 'INFO').catch(() => null),
          again.closed.then(() => null),
        ]);
        if (answered) open.push(again);
        else again.socket.destroy();
        return answered ? Number(answered[1]) : undefined;
      },
      5000,
      'a new client served after one left',
    ).then((rejected) => expect(rejected).toBeGreaterThanOrEqual(1));
  });
});
