import { createServer, type Server, type Socket, connect } from 'node:net';

export interface TcpProxy {
  readonly host: '127.0.0.1';
  readonly port: number;
  /**
   * Cuts the path like a network partition: open connections stop passing bytes and new ones are
   * accepted but never connected through (`blackhole`, peers see timeouts), or everything is reset
   * and refused (`reset`).
   */
  cut(mode?: 'blackhole' | 'reset'): void;
  /** Lets traffic through again (connections cut while blackholed stay dead, as after a real partition). */
  restore(): void;
  close(): Promise<void>;
}

/** A TCP forwarder on a free loopback port, to put one client's path to a server under the test's control. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: 'open' | 'blackhole' | 'reset' = 'open';
  const pairs = new Set<{ client: Socket; upstream?: Socket }>();
  const server: Server = createServer((client) => {
    client.on('error', () => undefined);
    if (mode === 'reset') return void client.resetAndDestroy();
    const pair: { client: Socket; upstream?: Socket } = { client };
    pairs.add(pair);
    client.on('close', () => {
      pair.upstream?.destroy();
      pairs.delete(pair);
    });
    if (mode === 'blackhole') return; // held open, nothing forwarded
    const upstream = connect(target.port, target.host);
    pair.upstream = upstream;
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    host: '127.0.0.1',
    port,
    cut(next = 'blackhole') {
      mode = next;
      for (const pair of pairs) {
        if (next === 'reset') {
          pair.client.resetAndDestroy();
          pair.upstream?.destroy();
        } else {
          // Stop both directions without closing anything: the peer sees silence.
          pair.client.unpipe();
          pair.upstream?.unpipe();
          pair.client.pause();
          pair.upstream?.pause();
        }
      }
    },
    restore() {
      mode = 'open';
    },
    async close() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream?.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
