import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, type ManagedProcess, redisServerBinary, startProcess, waitFor } from '../../libs/testing/src/index.js';

export interface SentinelOptions {
  /** The master name the sentinels monitor. */
  name: string;
  count: number;
  quorum: number;
  downAfterMs: number;
  failoverTimeoutMs: number;
  /** Replicas every sentinel must have discovered before this resolves. */
  replicas: number;
}

export interface Sentinels {
  ports: number[];
  procs: ManagedProcess[];
  /** SIGKILLs every sentinel and removes its directory. */
  stop(): Promise<void>;
}

/** The fields of `SENTINEL MASTER <name>` as an object. */
export async function sentinelMaster(port: number, name: string): Promise<Record<string, string>> {
  const c = new Redis({ port, lazyConnect: true, retryStrategy: () => null });
  c.on('error', () => undefined);
  try {
    await c.connect();
    const flat = (await c.call('SENTINEL', 'master', name)) as string[];
    return Object.fromEntries(flat.flatMap((_, j) => (j % 2 === 0 ? [[flat[j], flat[j + 1]]] : [])));
  } finally {
    c.disconnect();
  }
}

/**
 * `count` real Redis Sentinels (`redis-server <conf> --sentinel`) monitoring `master`. Resolves when each knows
 * the expected replicas and the other sentinels.
 */
export async function startSentinels(master: { host: string; port: number }, o: SentinelOptions): Promise<Sentinels> {
  const procs: ManagedProcess[] = [];
  const ports: number[] = [];
  const dirs: string[] = [];
  const stop = async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < o.count; i++) {
      const port = await freePort();
      const dir = mkdtempSync(join(tmpdir(), 'vigil-sentinel-'));
      dirs.push(dir);
      const conf = join(dir, 'sentinel.conf');
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${o.name} ${master.host} ${master.port} ${o.quorum}`,
          `sentinel down-after-milliseconds ${o.name} ${o.downAfterMs}`,
          `sentinel failover-timeout ${o.name} ${o.failoverTimeoutMs}`,
          `sentinel parallel-syncs ${o.name} 1`,
          '',
        ].join('\n'),
      );
      procs.push(startProcess(redisServerBinary(), [conf, '--sentinel']));
      ports.push(port);
    }
    await waitFor(
      async () => {
        for (const port of ports) {
          const info = await sentinelMaster(port, o.name);
          if (Number(info['num-slaves']) !== o.replicas || Number(info['num-other-sentinels']) !== o.count - 1) return false;
        }
        return true;
      },
      60_000,
      `${o.count} sentinel(s) that know each other and ${o.replicas} replica(s)`,
      200,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { ports, procs, stop };
}

/**
 * An ioredis Sentinel client as an application would configure it for fast failover: 500 ms command
 * timeout, no offline queue, reconnecting and re-asking the sentinels every 50 ms, ioredis' failover
 * detector on (it subscribes to `+switch-master`).
 */
export function sentinelClient(sentinels: { host: string; port: number }[], name: string): Redis {
  const c = new Redis({
    sentinels,
    name,
    commandTimeout: 500,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    failoverDetector: true,
    sentinelRetryStrategy: () => 50,
    retryStrategy: () => 50,
  });
  c.on('error', () => undefined);
  return c;
}
