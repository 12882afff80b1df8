/**
 * The workload: one writer per client path, each writing unique keys (`<path>:<n>` = n) one at a time,
 * as fast as they are acknowledged, through the path a user takes to find the master:
 * - `sentinel-ioredis`: ioredis' Sentinel support (with its failover detector) against the sentinels;
 * - `sentinel-node-redis`: node-redis' `createSentinel` against the sentinels;
 * - `dns` (Vigil): the cluster's A record from the controllers' DNS, re-resolved after an error;
 * - `rest` (Vigil): `GET /clusters/{name}/master`, asked again after an error.
 * Every write is recorded with its outcome: acknowledged, failed (refused, never applied), or
 * indeterminate (sent, no answer: it may or may not have been applied), and the node it went to when the
 * client exposes it.
 */
import { Resolver } from 'node:dns/promises';
import { Redis } from 'ioredis';
import { createSentinel } from 'redis';
import type { WriteRecord } from '../../libs/chaos/src/checker.js';
import { sentinelClient } from '../bench/sentinels.js';
import type { Address } from './services.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const COMMAND_TIMEOUT_MS = 500;

/** Errors after which the write certainly did not happen (it was never sent, or the server refused it). */
function definitelyFailed(err: Error): boolean {
  const m = err.message;
  if (err.name === 'ReplyError') return true; // READONLY, MASTERDOWN, NOREPLICAS …: refused, not applied
  return (
    /Stream isn't writeable|enableOfflineQueue|ECONNREFUSED|Connection is closed\.$|The client is closed|Socket closed unexpectedly|None of the sentinels|no master/i.test(
      m,
    ) && !/timed out/i.test(m)
  );
}

export interface Writer {
  readonly path: string;
  readonly writes: WriteRecord[];
  stop(): Promise<void>;
}

interface Target {
  /** Sends SET; answers the node it was sent to, when known. */
  set(key: string, value: string): Promise<string | undefined>;
  /** Called after an error, before the next write. */
  recover(): Promise<void>;
  close(): void;
}

function runWriter(path: string, target: Target): Writer {
  const writes: WriteRecord[] = [];
  let stopped = false;
  const done = (async () => {
    for (let n = 0; !stopped; n++) {
      const key = `${path}:${n}`;
      const start = Date.now();
      try {
        const node = await target.set(key, String(n));
        writes.push({ key, start, end: Date.now(), outcome: 'ok', node });
      } catch (err) {
        const e = err as Error;
        writes.push({ key, start, end: Date.now(), outcome: definitelyFailed(e) ? 'failed' : 'unknown', error: e.message.slice(0, 120) });
        await target.recover().catch(() => undefined);
        await sleep(10);
      }
    }
  })();
  return {
    path,
    writes,
    async stop() {
      stopped = true;
      await done;
      target.close();
    },
  };
}

function remoteOf(c: Redis): string | undefined {
  const s = c.stream as { remoteAddress?: string; remotePort?: number } | undefined;
  return s?.remoteAddress && s.remotePort ? `${s.remoteAddress}:${s.remotePort}` : undefined;
}

function directClient(at: Address): Redis {
  const c = new Redis({
    host: at.host,
    port: at.port,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => 50,
    lazyConnect: true,
  });
  c.on('error', () => undefined);
  c.connect().catch(() => undefined);
  return c;
}

/** A writer that finds the master with `lookup` and reconnects when the answer changes or the link is down. */
function discoveringWriter(path: string, lookup: () => Promise<Address | undefined>): Writer {
  let current: { at: Address; client: Redis } | undefined;
  const ensure = async () => {
    const at = await lookup().catch(() => undefined);
    if (!at) return;
    if (current && current.at.host === at.host && current.at.port === at.port && current.client.status === 'ready') return;
    current?.client.disconnect();
    current = { at, client: directClient(at) };
    await new Promise<void>((resolve) => {
      const c = current!.client;
      if (c.status === 'ready') return resolve();
      const t = setTimeout(resolve, 1000);
      c.once('ready', () => {
        clearTimeout(t);
        resolve();
      });
    });
  };
  return runWriter(path, {
    async set(key, value) {
      if (!current) await ensure();
      if (!current) throw new Error('no master known');
      const node = `${current.at.host}:${current.at.port}`;
      await current.client.set(key, value);
      return node;
    },
    recover: ensure,
    close: () => current?.client.disconnect(),
  });
}

export function ioredisSentinelWriter(sentinels: Address[], name: string): Writer {
  // As an application configures it for fast failover (the benchmarks' client): 500 ms command timeout,
  // no offline queue, re-asking the sentinels every 50 ms, ioredis' failover detector on.
  const make = () => sentinelClient(sentinels, name);
  let client = make();
  return runWriter('sentinel-ioredis', {
    async set(key, value) {
      const node = remoteOf(client);
      await client.set(key, value);
      return node;
    },
    async recover() {
      // An application makes a new client when ioredis gave up on this one.
      if (client.status !== 'end') return;
      client.disconnect();
      client = make();
    },
    close: () => client.disconnect(),
  });
}

export function nodeRedisSentinelWriter(sentinels: Address[], name: string): Writer {
  const client = createSentinel({
    name,
    sentinelRootNodes: sentinels,
    nodeClientOptions: { socket: { connectTimeout: 1000, reconnectStrategy: () => 50 } },
    sentinelClientOptions: { socket: { connectTimeout: 1000, reconnectStrategy: () => 50 } },
  });
  client.on('error', () => undefined);
  const connecting = client.connect().catch(() => undefined);
  return runWriter('sentinel-node-redis', {
    async set(key, value) {
      await connecting;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('Command timed out')), COMMAND_TIMEOUT_MS);
      });
      try {
        await Promise.race([client.set(key, value), timeout]);
      } finally {
        clearTimeout(timer);
      }
      return undefined;
    },
    recover: async () => undefined,
    close: () => void client.close().catch(() => undefined),
  });
}

export function dnsWriter(servers: Address[], fqdn: string): Writer {
  const resolver = new Resolver({ timeout: 300, tries: 1 });
  resolver.setServers(servers.map((s) => `${s.host}:${s.port}`));
  return discoveringWriter('dns', async () => {
    const [a] = await resolver.resolve4(fqdn);
    const [srv] = await resolver.resolveSrv(`_redis._tcp.${fqdn}`).catch(() => []);
    return a ? { host: a, port: srv?.port ?? 6379 } : undefined;
  });
}

export function restWriter(bases: string[], name: string, token: string): Writer {
  return discoveringWriter('rest', async () => {
    for (const base of bases) {
      try {
        const res = await fetch(`${base}/api/v1/clusters/${name}/master`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(500) });
        if (!res.ok) continue;
        const body = (await res.json()) as { host: string; port: number };
        return { host: body.host, port: body.port };
      } catch {
        // the next controller
      }
    }
    return undefined;
  });
}
