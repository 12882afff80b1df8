import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cmd, rawConnect } from '../../../../test/support/resp.js';
import type { Principal } from '../auth/principal.js';
import { SentinelConnection, type SentinelBackend } from './sentinel-connection.js';
import type { MasterFacts } from './sentinel-format.js';

const master: MasterFacts = {
  host: '10.0.0.1',
  port: 6379,
  runId: 'a'.repeat(40),
  state: 'up',
  disconnected: false,
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

const principals: Record<string, Principal> = {
  'op-token': { tokenId: '1', tokenName: 'ops', role: 'operator' },
  'admin-token': { tokenId: '2', tokenName: 'root', role: 'admin' },
  'viewer-token': { tokenId: '3', tokenName: 'dash', role: 'viewer' },
};
/** Failovers the backend was asked for, as `name by token`. */
const failovers: string[] = [];
/** Tokens the test revokes while a connection stays open. */
const revoked = new Set<string>();

/**
 * A backend of fixed answers: these tests are about the protocol, not the data. Its failover stands in
 * for the operator-actions authority: it refuses a viewer and the cluster `frozen` (in maintenance).
 */
const backend = (password?: string): SentinelBackend => ({
  runId: 'f'.repeat(40),
  password,
  authenticate: async (user, secret) => {
    if (secret === 'db-down') throw new Error('connection refused');
    if (password !== undefined && (user === undefined || user === 'default') && secret === password) {
      return { tokenId: 'sentinel:password', tokenName: 'sentinel:password', role: 'operator' };
    }
    return revoked.has(secret) ? null : (principals[secret] ?? null);
  },
  masterAddress: (name) => (name === 'orders' || name === 'frozen' ? { host: '10.0.0.1', port: 6379 } : undefined),
  masterAddressReply: (name) => (name === 'orders' ? '*2\r\n$8\r\n10.0.0.1\r\n$4\r\n6379\r\n' : null),
  masters: () => [master],
  master: (name) => (name === 'orders' ? master : undefined),
  replicas: () => undefined,
  sentinels: () => undefined,
  quorum: () => ({ usable: 1, quorum: 2, majority: false }),
  failover: (name, principal) => {
    if (principal.role === 'viewer') return Promise.reject(new Error('NOPERM this command requires an operator token: AUTH <token>'));
    if (name === 'frozen') return Promise.reject(new Error('ERR cluster frozen is in maintenance until 2030-01-01T00:00:00.000Z'));
    failovers.push(`${name} by ${principal.tokenName}`);
    return principal.tokenName === 'root' ? Promise.resolve() : Promise.reject(new Error('NOGOODSLAVE No suitable replica to promote'));
  },
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
    const s = createServer((socket) =>
      conns.push(new SentinelConnection(socket, id++, b, { connectionsReceived: 0, commandsProcessed: 0, rejectedConnections: 0 }, () => undefined)),
    );
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
        cmd('AUTH', 'x') +
        cmd('AUTH', 'op-token') +
        cmd('SENTINEL', 'failover', 'orders') +
        cmd('SENTINEL', 'failover', 'x') +
        cmd('SENTINEL', 'failover'),
    );
    const text = await c.until((t) => t.split('\r\n').length >= 8);
    expect(text.split('\r\n').slice(0, 7)).toEqual([
      "-ERR wrong number of arguments for 'sentinel|master' command",
      '-NOQUORUM 1 usable probe agent. Not enough available probe agents to reach the specified quorum for this master',
      '-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
      '+OK',
      '-NOGOODSLAVE No suitable replica to promote',
      '-ERR No such master with that name',
      "-ERR wrong number of arguments for 'sentinel|failover' command",
    ]);
    c.close();
  });

  it('refuses operator commands without an operator token, reads stay open, and answers them as before once authorised', async () => {
    failovers.length = 0;
    const mutating = [
      ['FAILOVER', 'orders'],
      ['SET', 'orders', 'quorum', '1'],
      ['RESET', '*'],
      ['REMOVE', 'orders'],
      ['MONITOR', 'x', '10.0.0.9', '6379', '2'],
      ['CONFIG', 'SET', 'resolve-hostnames', 'yes'],
      ['FLUSHCONFIG'],
      ['IS-MASTER-DOWN-BY-ADDR', '10.0.0.1', '6379', '0', '*'],
    ];
    const c = await rawConnect(port);
    const send = (...cmds: string[][]) => c.send(cmds.map((a) => cmd(...a)).join(''));
    const lines = async (n: number) => {
      const from = c.received().length;
      const text = await c.until((t) => t.slice(from).split('\r\n').length > n);
      return text.slice(from).split('\r\n').slice(0, n);
    };
    // Without credentials: every mutating subcommand is refused, reads answer.
    send(...mutating.map((m) => ['SENTINEL', ...m]), ['SENTINEL', 'CONFIG', 'GET', '*'], ['SENTINEL', 'get-master-addr-by-name', 'orders']);
    const noperm = '-NOPERM this command requires an operator token: AUTH <token>';
    expect(await lines(mutating.length + 1)).toEqual([...mutating.map(() => noperm), "-ERR unknown subcommand 'CONFIG'. Try SENTINEL HELP."]);
    expect(await c.until((t) => t.endsWith('6379\r\n'))).toMatch(/\*2\r\n\$8\r\n10\.0\.0\.1\r\n\$4\r\n6379\r\n$/);

    // A viewer token authenticates (reads) but is no operator: the same refusal.
    send(['AUTH', 'someone', 'viewer-token'], ...mutating.map((m) => ['SENTINEL', ...m]));
    expect(await lines(mutating.length + 1)).toEqual(['+OK', ...mutating.map(() => noperm)]);

    // A wrong token leaves the viewer's authentication in place, as a failed AUTH does in Redis.
    send(['AUTH', 'someone', 'nope'], ['SENTINEL', 'reset', '*']);
    expect(await lines(2)).toEqual(['-WRONGPASS invalid username-password pair or user is disabled.', noperm]);

    // An admin token (AUTH <username> <token>): the failover runs, the others answer what they answered before.
    send(['AUTH', 'root', 'admin-token'], ...mutating.map((m) => ['SENTINEL', ...m]));
    expect(await lines(mutating.length + 1)).toEqual([
      '+OK',
      '+OK',
      "-ERR unknown subcommand 'SET'. Try SENTINEL HELP.",
      ':0',
      "-ERR unknown subcommand 'REMOVE'. Try SENTINEL HELP.",
      "-ERR unknown subcommand 'MONITOR'. Try SENTINEL HELP.",
      "-ERR unknown subcommand 'CONFIG'. Try SENTINEL HELP.",
      "-ERR unknown subcommand 'FLUSHCONFIG'. Try SENTINEL HELP.",
      "-ERR unknown subcommand 'IS-MASTER-DOWN-BY-ADDR'. Try SENTINEL HELP.",
    ]);
    // The authority's refusals come through word for word (here: maintenance).
    send(['SENTINEL', 'failover', 'frozen']);
    expect(await lines(1)).toEqual(['-ERR cluster frozen is in maintenance until 2030-01-01T00:00:00.000Z']);
    expect(failovers).toEqual(['orders by root']);

    // The credentials are checked again before each operator command: a revoked token stops at once.
    revoked.add('admin-token');
    send(['SENTINEL', 'failover', 'orders'], ['PING']);
    expect(await lines(2)).toEqual([noperm, '+PONG']);
    revoked.delete('admin-token');

    // RESET drops the credentials.
    send(['RESET'], ['SENTINEL', 'reset', '*']);
    expect(await lines(2)).toEqual(['+RESET', noperm]);

    // Verification that cannot run (database down) is an error, not a refusal of the credentials.
    send(['AUTH', 'db-down']);
    expect(await lines(1)).toEqual(['-ERR could not verify the credentials now, try again']);
    c.close();
  });

  it('with a password set: the password is an operator, a viewer token passes the password gate, HELLO AUTH takes a token, and pipelined commands wait for AUTH', async () => {
    failovers.length = 0;
    const c = await rawConnect(securedPort);
    c.send(
      cmd('SENTINEL', 'failover', 'orders') +
        cmd('AUTH', 'viewer-token') +
        cmd('SENTINEL', 'get-master-addr-by-name', 'orders') +
        cmd('SENTINEL', 'failover', 'orders') +
        cmd('AUTH', 'default', 'pw') +
        cmd('SENTINEL', 'failover', 'orders') +
        cmd('SENTINEL', 'reset', '*'),
    );
    const text = await c.until((t) => t.endsWith(':0\r\n'));
    expect(text).toBe(
      '-NOAUTH Authentication required.\r\n+OK\r\n*2\r\n$8\r\n10.0.0.1\r\n$4\r\n6379\r\n' +
        '-NOPERM this command requires an operator token: AUTH <token>\r\n+OK\r\n-NOGOODSLAVE No suitable replica to promote\r\n:0\r\n',
    );
    expect(failovers).toEqual(['orders by sentinel:password']);
    c.close();

    const h = await rawConnect(securedPort);
    h.send(cmd('HELLO', '3', 'AUTH', 'ops', 'wrong') + cmd('HELLO', '3', 'AUTH', 'ops', 'op-token') + cmd('SENTINEL', 'failover', 'orders'));
    const hello = await h.until((t) => t.includes('NOGOODSLAVE'));
    expect(hello).toMatch(
      /^-WRONGPASS invalid username-password pair or user is disabled\.\r\n%7\r\n\$6\r\nserver\r\n[\s\S]*-NOGOODSLAVE No suitable replica to promote\r\n$/,
    );
    expect(failovers).toEqual(['orders by sentinel:password', 'orders by ops']);
    h.close();
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
