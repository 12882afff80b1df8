import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cmd, rawConnect } from '../../../../test/support/resp.js';
import { SentinelConnection, type SentinelBackend } from './sentinel-connection.js';
import type { MasterFacts } from './sentinel-format.js';

const master: MasterFacts = {
  host: '10.0.0.1',
  port: 6379,
  runId: 'a'.repeat(40),
  state: 'up',
  stateSince: 0,
  lastOkAt: Date.now(),
  infoReadAt: Date.now(),
  roleReported: 'master',
  offset: 10,
  masterHost: null,
  masterPort: null,
  linkUp: null,
  linkDownSinceS: null,
  priority: 100,
  name: 'orders',
  epoch: 4,
  quorum: 2,
  downAfterMs: 1000,
  failoverTimeoutMs: 60000,
  numSlaves: 2,
  numOtherSentinels: 0,
  failoverInProgress: false,
};

/** A backend of fixed answers: these tests are about the protocol, not the data. */
const backend = (password?: string): SentinelBackend => ({
  runId: 'f'.repeat(40),
  password,
  masterAddress: (name) => (name === 'orders' ? { host: '10.0.0.1', port: 6379 } : undefined),
  masterAddressReply: (name) => (name === 'orders' ? '*2\r\n$8\r\n10.0.0.1\r\n$4\r\n6379\r\n' : null),
  masters: () => [master],
  master: (name) => (name === 'orders' ? master : undefined),
  replicas: () => undefined,
  sentinels: () => undefined,
  quorum: () => ({ usable: 1, quorum: 2 }),
  failover: () => Promise.reject(new Error('NOGOODSLAVE No suitable replica to promote')),
  info: () => ({
    version: '7.0.15',
    runId: 'f'.repeat(40),
    port: 1,
    uptimeS: 1,
    connectedClients: 1,
    connectionsReceived: 1,
    commandsProcessed: 1,
    masters: [],
  }),
});

describe('SentinelConnection', () => {
  let server: Server;
  let securedServer: Server;
  const conns: SentinelConnection[] = [];
  let port = 0;
  let securedPort = 0;

  async function listen(b: SentinelBackend): Promise<[Server, number]> {
    let id = 1;
    const s = createServer((socket) => conns.push(new SentinelConnection(socket, id++, b, { connectionsReceived: 0, commandsProcessed: 0 }, () => undefined)));
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return [s, (s.address() as { port: number }).port];
  }

  beforeAll(async () => {
    [server, port] = await listen(backend());
    [securedServer, securedPort] = await listen(backend('pw'));
  });
  afterAll(() => {
    server.close();
    securedServer.close();
  });

  it('restricts a RESP2 subscriber to pub/sub commands and delivers channel and pattern messages', async () => {
    const c = await rawConnect(port);
    c.send(cmd('SUBSCRIBE', '+switch-master') + cmd('PSUBSCRIBE', '[-+]odown') + cmd('SENTINEL', 'masters') + cmd('PING'));
    const text = await c.until((t) => t.includes('pong'));
    expect(text).toBe(
      '*3\r\n$9\r\nsubscribe\r\n$14\r\n+switch-master\r\n:1\r\n' +
        '*3\r\n$10\r\npsubscribe\r\n$9\r\n[-+]odown\r\n:2\r\n' +
        "-ERR Can't execute 'sentinel': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n" +
        '*2\r\n$4\r\npong\r\n$0\r\n\r\n',
    );
    const conn = conns[conns.length - 1]!;
    conn.deliver('+odown', 'master orders 10.0.0.1 6379 #quorum 2/2');
    conn.deliver('+sdown', 'not subscribed');
    conn.deliver('+switch-master', 'orders 10.0.0.1 6379 10.0.0.2 6379');
    const all = await c.until((t) => t.includes('10.0.0.2'));
    expect(all.slice(text.length)).toBe(
      '*4\r\n$8\r\npmessage\r\n$9\r\n[-+]odown\r\n$6\r\n+odown\r\n$39\r\nmaster orders 10.0.0.1 6379 #quorum 2/2\r\n' +
        '*3\r\n$7\r\nmessage\r\n$14\r\n+switch-master\r\n$34\r\norders 10.0.0.1 6379 10.0.0.2 6379\r\n',
    );
    c.send(cmd('UNSUBSCRIBE') + cmd('PUNSUBSCRIBE') + cmd('UNSUBSCRIBE'));
    const after = await c.until((t) => t.endsWith('*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n'));
    expect(after).toContain('*3\r\n$11\r\nunsubscribe\r\n$14\r\n+switch-master\r\n:1\r\n*3\r\n$12\r\npunsubscribe\r\n$9\r\n[-+]odown\r\n:0\r\n');
    c.close();
  });

  it('sends pushes in RESP3 and allows any command while subscribed', async () => {
    const c = await rawConnect(port);
    c.send(cmd('HELLO', '3') + cmd('SUBSCRIBE', 'a') + cmd('SENTINEL', 'get-master-addr-by-name', 'orders'));
    const text = await c.until((t) => t.includes('6379'));
    expect(text).toContain('>3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*2\r\n$8\r\n10.0.0.1\r\n$4\r\n6379\r\n');
    c.send(cmd('HELLO', '4'));
    expect(await c.until((t) => t.includes('NOPROTO'))).toContain('-NOPROTO unsupported protocol version\r\n');
    c.close();
  });

  it('answers errors in Sentinel words: arity, ckquorum without quorum, a failover that cannot run', async () => {
    const c = await rawConnect(port);
    c.send(
      cmd('SENTINEL', 'master') +
        cmd('SENTINEL', 'ckquorum', 'orders') +
        cmd('SENTINEL', 'failover', 'orders') +
        cmd('SENTINEL', 'failover', 'x') +
        cmd('AUTH', 'x'),
    );
    const text = await c.until((t) => t.split('\r\n').length >= 6);
    expect(text.split('\r\n').slice(0, 5)).toEqual([
      "-ERR wrong number of arguments for 'sentinel|master' command",
      '-NOQUORUM 1 usable probe agent. Not enough available probe agents to reach the specified quorum for this master',
      '-NOGOODSLAVE No suitable replica to promote',
      '-ERR No such master with that name',
      '-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
    ]);
    c.close();
  });

  it('requires AUTH when a password is set, and QUIT closes after OK', async () => {
    const c = await rawConnect(securedPort);
    c.send(cmd('PING') + cmd('AUTH', 'default', 'pw') + cmd('PING') + cmd('QUIT') + cmd('PING'));
    await c.closed;
    expect(c.received()).toBe('-NOAUTH Authentication required.\r\n+OK\r\n+PONG\r\n+OK\r\n');
  });

  it('closes the connection on an oversized or malformed request with one protocol error', async () => {
    const c = await rawConnect(port);
    c.send('*1\r\n$99999999\r\n');
    await c.closed;
    expect(c.received()).toMatch(/^-ERR Protocol error: invalid bulk length\r\n$/);
  });
});
