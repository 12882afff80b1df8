import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { type ManagedProcess, redisServerBinary, startProcess, waitFor } from '../../libs/testing/src/index.js';

/**
 * One Redis Sentinel (`redis-server <conf> --sentinel`) monitoring many masters, each under its own name
 * with quorum 1, at Sentinel's default timings (PING every second, INFO every 10 s, hello every 2 s). It
 * rewrites its configuration file, so it gets a copy of its own in a temporary directory.
 */
export interface WatchingSentinel {
  readonly port: number;
  readonly proc: ManagedProcess;
  /** How many masters are in each state now (`ok`: flags exactly `master`, with a PING answered lately). */
  census(): Promise<SentinelCensus>;
  /** Counts the `+sdown` events it publishes from now on. */
  countSdowns(): Promise<{ count(): number; stop(): void }>;
  stop(): Promise<void>;
}

export interface SentinelCensus {
  masters: number;
  ok: number;
  /** Flags of the first few masters that are not ok, for the log. */
  notOk: string[];
}

async function withClient<T>(port: number, fn: (c: Redis) => Promise<T>): Promise<T> {
  const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return await fn(c);
  } finally {
    c.disconnect();
  }
}

export async function startWatchingSentinel(masters: { name: string; port: number }[], o: { port: number; downAfterMs: number }): Promise<WatchingSentinel> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-sentinel-'));
  const conf = join(dir, 'sentinel.conf');
  const lines = [`port ${o.port}`, 'bind 127.0.0.1', `dir ${dir}`, 'logfile ""'];
  for (const m of masters) {
    lines.push(`sentinel monitor ${m.name} 127.0.0.1 ${m.port} 1`, `sentinel down-after-milliseconds ${m.name} ${o.downAfterMs}`);
  }
  writeFileSync(conf, `${lines.join('\n')}\n`);
  const proc = startProcess(redisServerBinary(), [conf, '--sentinel']);
  const stop = async () => {
    await proc.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`sentinel exited: ${proc.output().slice(-2000)}`);
        return withClient(o.port, async (c) => (await c.ping()) === 'PONG');
      },
      30_000,
      'sentinel to accept connections',
      100,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    port: o.port,
    proc,
    census: () =>
      withClient(o.port, async (c) => {
        const list = (await c.call('SENTINEL', 'MASTERS')) as string[][];
        const census: SentinelCensus = { masters: list.length, ok: 0, notOk: [] };
        for (const flat of list) {
          const f = new Map<string, string>();
          for (let i = 0; i + 1 < flat.length; i += 2) f.set(flat[i]!, flat[i + 1]!);
          const fine = f.get('flags') === 'master' && Number(f.get('last-ok-ping-reply')) < 2000 && f.get('role-reported') === 'master';
          if (fine) census.ok++;
          else if (census.notOk.length < 5) census.notOk.push(`${f.get('name')}: ${f.get('flags')}, last ok ping ${f.get('last-ok-ping-reply')} ms`);
        }
        return census;
      }),
    async countSdowns() {
      const sub = new Redis({ port: o.port, host: '127.0.0.1', retryStrategy: () => null });
      sub.on('error', () => undefined);
      let n = 0;
      sub.on('message', () => n++);
      await sub.subscribe('+sdown');
      return { count: () => n, stop: () => sub.disconnect() };
    },
    stop,
  };
}
