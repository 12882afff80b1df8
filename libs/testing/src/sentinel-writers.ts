import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Redis as IORedis5 } from 'ioredis';
import { Redis as IORedis6 } from 'ioredis6';
import { createSentinel as createSentinel6 } from 'redis';
import { createSentinel as createSentinel5 } from 'redis5';
import { createClient as createClient4 } from 'redis4';
import { startProcess } from './processes.js';

/** ioredis 4 ships no type declarations; its constructor takes the same options as ioredis 5 for what is used here. */
// @ts-expect-error -- no declaration file for ioredis 4
import IORedis4Untyped from 'ioredis4';
const IORedis4 = IORedis4Untyped as typeof IORedis5;

/** The Sentinel clients of the matrix, each at its newest release of that major. */
export const SENTINEL_CLIENTS = ['node-redis 4', 'node-redis 5', 'node-redis 6', 'ioredis 4', 'ioredis 5', 'ioredis 6', 'redis-py'] as const;
export type SentinelClientName = (typeof SENTINEL_CLIENTS)[number];

export interface Endpoint {
  host: string;
  port: number;
}

/** One acknowledged write: its sequence number, when it was sent and when the acknowledgement arrived (ms). */
export interface Ack {
  seq: number;
  sent: number;
  at: number;
}

/**
 * A client writing `RPUSH <key> <seq>` one at a time, as fast as acknowledged, through Sentinel endpoints
 * with the client's default options. On an error it waits 20 ms and writes the next number.
 */
export interface SentinelWriter {
  readonly client: SentinelClientName;
  readonly key: string;
  readonly acks: Ack[];
  errors: number;
  lastError: string | undefined;
  /** The first acknowledgement of a write sent after `t` (a reply already on its way at `t` does not count), if any. */
  firstAckAfter(t: number): Ack | undefined;
  /** Stops writing and closes the client. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function writer(client: SentinelClientName, key: string, push: (seq: number) => Promise<unknown>, close: () => Promise<void>): SentinelWriter {
  let stopped = false;
  const w: SentinelWriter = {
    client,
    key,
    acks: [],
    errors: 0,
    lastError: undefined,
    firstAckAfter: (t) => w.acks.find((a) => a.sent > t),
    async stop() {
      stopped = true;
      // A client stuck on a dead address may never finish closing (node-redis 5 waits on its connect).
      await Promise.race([close().catch(() => undefined), sleep(2000)]);
      await Promise.race([loop, sleep(2000)]);
    },
  };
  const loop = (async () => {
    for (let seq = 1; !stopped; seq++) {
      const sent = Date.now();
      try {
        await push(seq);
        w.acks.push({ seq, sent, at: Date.now() });
      } catch (err) {
        w.errors++;
        w.lastError = (err as Error).message;
        await sleep(20);
      }
    }
  })();
  return w;
}

/**
 * node-redis 4 has no Sentinel client (Sentinel support came with node-redis 5). What its users do: ask
 * an endpoint `SENTINEL get-master-addr-by-name`, connect to the answer, and ask again (trying each
 * endpoint in turn) whenever the connection breaks or a write fails, moving to a different answer.
 */
async function nodeRedis4(endpoints: Endpoint[], name: string, key: string): Promise<SentinelWriter> {
  const ask = async (): Promise<Endpoint | undefined> => {
    for (const e of endpoints) {
      const c = createClient4({ socket: { host: e.host, port: e.port, reconnectStrategy: false, connectTimeout: 1000 } });
      c.on('error', () => undefined);
      try {
        await c.connect();
        const reply = (await c.sendCommand(['SENTINEL', 'get-master-addr-by-name', name])) as string[] | null;
        if (reply) return { host: reply[0]!, port: Number(reply[1]) };
      } catch {
        // the next endpoint
      } finally {
        if (c.isOpen) await c.disconnect().catch(() => undefined);
      }
    }
    return undefined;
  };
  type Client4 = ReturnType<typeof createClient4>;
  let current: { client: Client4; at: Endpoint } | undefined;
  let checking: Promise<void> | undefined;
  /** Asks again; moves to the answer when it differs from the address in use. */
  const follow = (): Promise<void> =>
    (checking ??= (async () => {
      try {
        const at = await ask();
        if (!at || (current && current.at.host === at.host && current.at.port === at.port)) return;
        const old = current;
        const client = createClient4({ socket: { host: at.host, port: at.port } });
        client.on('error', () => undefined);
        client.on('reconnecting', () => void follow());
        current = { client, at };
        if (old) await old.client.disconnect().catch(() => undefined);
        await client.connect().catch(() => undefined);
      } finally {
        checking = undefined;
      }
    })());
  await follow();
  if (!current) throw new Error('node-redis 4: no endpoint answered the master address');
  return writer(
    'node-redis 4',
    key,
    async (seq) => {
      const c = current!.client;
      try {
        return await c.rPush(key, String(seq));
      } catch (err) {
        void follow();
        throw err;
      }
    },
    async () => {
      if (current?.client.isOpen) await current.client.disconnect();
    },
  );
}

/** The redis-py writer (`redis-py-writer.py`), run by Debian's Python, which carries Debian's python3-redis. */
async function redisPy(endpoints: Endpoint[], name: string, key: string): Promise<SentinelWriter> {
  // Read from the source tree (run from the repository root), so the built benchmark finds it too.
  const script = join(process.cwd(), 'libs/testing/src/redis-py-writer.py');
  const proc = startProcess(process.env['VIGIL_PYTHON'] ?? '/usr/bin/python3', [script, JSON.stringify({ sentinels: endpoints, name, key })]);
  const acks: Ack[] = [];
  const w: SentinelWriter = {
    client: 'redis-py',
    key,
    acks,
    errors: 0,
    lastError: undefined,
    firstAckAfter: (t) => acks.find((a) => a.sent > t),
    stop: () => proc.stop('SIGTERM', 2000),
  };
  let ready: () => void;
  const started = new Promise<void>((resolve) => (ready = resolve));
  createInterface({ input: proc.child.stdout! }).on('line', (line) => {
    const [kind, a, b, c] = line.split(' ');
    if (kind === 'ack') {
      acks.push({ seq: Number(a), sent: Number(b), at: Number(c) });
      ready();
    } else if (kind === 'err') {
      w.errors++;
      w.lastError = line.slice(4);
    }
  });
  await Promise.race([
    started,
    proc.exited.then((code) => {
      throw new Error(`redis-py writer exited (${code}): ${proc.output().slice(-2000)}`);
    }),
  ]);
  return w;
}

/**
 * Starts `client` writing to the master named `name` through `endpoints` (Sentinels or Vigil's endpoint),
 * with that client's default options; resolves once it is connected.
 */
export async function startSentinelWriter(client: SentinelClientName, endpoints: Endpoint[], name: string, key: string): Promise<SentinelWriter> {
  switch (client) {
    case 'node-redis 4':
      return nodeRedis4(endpoints, name, key);
    case 'node-redis 5':
    case 'node-redis 6': {
      const s = client === 'node-redis 5' ? createSentinel5({ name, sentinelRootNodes: endpoints }) : createSentinel6({ name, sentinelRootNodes: endpoints });
      s.on('error', () => undefined);
      await s.connect();
      return writer(
        client,
        key,
        (seq) => s.rPush(key, String(seq)),
        async () => void (await s.destroy()),
      );
    }
    case 'ioredis 4':
    case 'ioredis 5':
    case 'ioredis 6': {
      const options = { sentinels: endpoints, name };
      const r = client === 'ioredis 4' ? new IORedis4(options) : client === 'ioredis 5' ? new IORedis5(options) : new IORedis6(options);
      r.on('error', () => undefined);
      await r.ping();
      return writer(
        client,
        key,
        (seq) => r.rpush(key, String(seq)),
        async () => r.disconnect(),
      );
    }
    case 'redis-py':
      return redisPy(endpoints, name, key);
  }
}
