import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type RedisServer, startRedis } from '../../../libs/testing/src/index.js';
import { RespErrorReply, type ReplyValue } from '../../../libs/resp/src/index.js';
import { encodeCommand, ProbeConnection, type ProbeConnectionOptions } from './probe-connection.js';

/** A connection with its events recorded, and a promise for each. */
function connectTo(options: Partial<ProbeConnectionOptions> & { port: number }) {
  const log: string[] = [];
  let ready!: () => void;
  let closed!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const isClosed = new Promise<void>((r) => (closed = r));
  const conn = new ProbeConnection(
    { host: '127.0.0.1', tls: false, name: 'probe-under-test', ...options },
    {
      onReady: () => (log.push('ready'), ready()),
      onError: (message, auth) => log.push(`error${auth ? '(auth)' : ''}: ${message}`),
      onClose: () => (log.push('close'), closed()),
    },
  );
  return { conn, log, isReady, isClosed };
}

const reply = (conn: ProbeConnection, command: Buffer, count = 1) =>
  new Promise<(ReplyValue | Error)[]>((resolve) => {
    const got: (ReplyValue | Error)[] = [];
    const handlers = Array.from({ length: count }, () => (r: ReplyValue | Error) => {
      got.push(r);
      if (got.length === count) resolve(got);
    });
    expect(conn.send(command, ...handlers)).toBe(true);
  });

/** A TCP server that answers the handshake (+OK) and then whatever `after` writes. */
async function fakeNode(after: (socket: Socket, data: string) => void): Promise<{ server: Server; port: number }> {
  const port = await freePort();
  const server = createServer((socket) => {
    let handshaken = false;
    socket.on('data', (d) => {
      if (!handshaken) {
        handshaken = true;
        socket.write('+OK\r\n');
        return;
      }
      after(socket, String(d));
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { server, port };
}

describe('ProbeConnection against real redis-servers', () => {
  let plain: RedisServer;
  let secured: RedisServer;
  beforeAll(async () => {
    [plain, secured] = await Promise.all([startRedis(), startRedis({ password: 's3cret' })]);
  });
  afterAll(async () => {
    await Promise.all([plain?.stop(), secured?.stop()]);
  });

  it('answers several commands sent in one write, in order, and names itself', async () => {
    const { conn, isReady } = connectTo({ port: plain.port });
    await isReady;
    const [pong, info] = await reply(conn, Buffer.concat([encodeCommand('PING'), encodeCommand('INFO', 'replication')]), 2);
    expect(pong).toBe('PONG');
    expect(info).toMatch(/^# Replication\r\nrole:master\r\n/);
    expect(String(await plain.call('CLIENT', 'LIST'))).toMatch(/name=probe-under-test /);
    conn.destroy();
  });

  it('authenticates, and reports refused credentials as such and drops the connection', async () => {
    const good = connectTo({ port: secured.port, password: 's3cret' });
    await good.isReady;
    expect(await reply(good.conn, encodeCommand('PING'))).toEqual(['PONG']);
    good.conn.destroy();

    const bad = connectTo({ port: secured.port, password: 'wrong' });
    await bad.isClosed;
    expect(bad.log[0]).toMatch(/^error\(auth\): WRONGPASS/);
    expect(bad.log).not.toContain('ready');
    expect(bad.conn.state).toBe('closed');
  });

  it('gets ready on a server without a password when given one (as client libraries do)', async () => {
    const { conn, isReady } = connectTo({ port: plain.port, password: 'unneeded' });
    await isReady;
    expect(await reply(conn, encodeCommand('PING'))).toEqual(['PONG']);
    conn.destroy();
  });

  it('is ready without credentials on a server that wants them, so PING answers NOAUTH', async () => {
    const { conn, isReady } = connectTo({ port: secured.port });
    await isReady;
    const [r] = await reply(conn, encodeCommand('PING'));
    expect(r).toBeInstanceOf(RespErrorReply);
    expect((r as Error).message).toMatch(/^NOAUTH/);
    conn.destroy();
  });

  it('fails a refused connect with the system error', async () => {
    const { log, isClosed } = connectTo({ port: await freePort() });
    await isClosed;
    expect(log).toEqual([expect.stringMatching(/^error: connect ECONNREFUSED 127\.0\.0\.1:\d+$/), 'close']);
  });
});

describe('ProbeConnection against a misbehaving peer', () => {
  it('drops a connection that sends malformed replies, and fails the command in flight', async () => {
    const { server, port } = await fakeNode((socket) => socket.write('?garbage\r\n'));
    const { conn, log, isReady, isClosed } = connectTo({ port });
    await isReady;
    const [r] = await reply(conn, encodeCommand('PING'));
    await isClosed;
    expect(r).toBeInstanceOf(Error);
    expect(r).not.toBeInstanceOf(RespErrorReply);
    expect(log).toEqual(['ready', expect.stringMatching(/^error: Protocol error: unexpected reply type/), 'close']);
    server.close();
  });

  it('drops a connection that sends a reply nobody asked for', async () => {
    const { server, port } = await fakeNode((socket) => socket.write('+PONG\r\n+PONG\r\n'));
    const { conn, log, isReady, isClosed } = connectTo({ port });
    await isReady;
    expect(await reply(conn, encodeCommand('PING'))).toEqual(['PONG']);
    await isClosed;
    expect(log).toEqual(['ready', 'error: Protocol error: a reply no command asked for', 'close']);
    server.close();
  });

  it('fails the commands in flight when the peer closes', async () => {
    const { server, port } = await fakeNode((socket) => socket.destroy());
    const { conn, log, isReady, isClosed } = connectTo({ port });
    await isReady;
    const [r] = await reply(conn, encodeCommand('PING'));
    await isClosed;
    expect((r as Error).message).toBe('connection closed');
    expect(log).toEqual(['ready', 'close']);
    expect(conn.send(encodeCommand('PING'))).toBe(false);
    server.close();
  });
});

describe('ProbeConnection before its handshake is answered', () => {
  it('sends commands behind the pending handshake and hands out the replies in order', async () => {
    let release!: () => void;
    const answered = new Promise<void>((r) => (release = r));
    const port = await freePort();
    const server = createServer((socket) => {
      let seen = '';
      socket.on('data', (d) => {
        seen += String(d);
        // The handshake (CLIENT SETNAME) and the PING behind it arrive before anything is answered.
        if (seen.includes('PING')) void answered.then(() => socket.write('+OK\r\n+PONG\r\n'));
      });
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    const { conn, log } = connectTo({ port });
    await new Promise<void>((r) => conn['socket'].once('connect', () => r()));
    expect(conn.state).toBe('handshake');
    const pong = reply(conn, encodeCommand('PING'));
    release();
    expect(await pong).toEqual(['PONG']);
    expect(log).toEqual(['ready']);
    conn.destroy();
    server.close();
  });
});

describe('ProbeConnection turned away during its handshake', () => {
  /** A server that answers the handshake's first command with `first` and closes, as a full Redis does. */
  async function refusingNode(first: string): Promise<{ server: Server; port: number }> {
    const port = await freePort();
    const server = createServer((socket) => {
      socket.once('data', () => socket.end(first));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    return { server, port };
  }

  it('reports an error reply to AUTH that is not about the credentials as an ordinary failure, not as refused credentials', async () => {
    const { server, port } = await refusingNode('-ERR max number of clients reached\r\n');
    const { log, isClosed } = connectTo({ port, password: 'secret' });
    await isClosed;
    expect(log).toEqual(['error: ERR max number of clients reached', 'close']);
    server.close();
  });

  it('keeps the reason of a server that turns the connection away at CLIENT SETNAME', async () => {
    const { server, port } = await refusingNode('-ERR max number of clients reached\r\n');
    const { log, isClosed } = connectTo({ port });
    await isClosed;
    expect(log).toEqual(['error: ERR max number of clients reached', 'close']);
    server.close();
  });
});
