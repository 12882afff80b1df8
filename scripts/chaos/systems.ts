/**
 * The two systems under test, behind one shape: set up a trial's group, the client paths, what the
 * system publishes as master, a planned switchover, and tear down.
 */
import type { Lab } from '../../libs/chaos/src/lab.js';
import { waitFor } from '../../libs/testing/src/index.js';
import {
  ADMIN_TOKEN,
  AGENT_HOSTS,
  CONTROLLER_HOSTS,
  DNS_PORT,
  DNS_ZONE,
  HTTP_PORT,
  type Address,
  type LabRedis,
  type LabSentinels,
  redisCall,
  SENTINEL_HOSTS,
  SENTINEL_PORT,
  startLabSentinels,
} from './services.js';
import { dnsWriter, ioredisSentinelWriter, nodeRedisSentinelWriter, restWriter, type Writer } from './workload.js';

export interface SystemUnderTest {
  watchers: string[];
  writers(): Writer[];
  /** The master every publication channel agrees on, or undefined. */
  published(): Promise<string | undefined>;
  switchover(): Promise<void>;
  teardown(): Promise<void>;
}

/** One call to whichever controller answers first with a non-5xx status; a 4xx throws with its text. */
export async function api<T = unknown>(lab: Lab, method: string, path: string, body?: unknown): Promise<T> {
  let last = '';
  for (const h of CONTROLLER_HOSTS) {
    try {
      const res = await fetch(`http://${lab.ip(h)}:${HTTP_PORT}${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(method === 'GET' ? 2000 : 30_000),
      });
      const text = await res.text();
      if (res.status >= 500) {
        last = `${h}: ${res.status} ${text.slice(0, 200)}`;
        continue;
      }
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
      return (text ? JSON.parse(text) : undefined) as T;
    } catch (err) {
      if ((err as Error).message.startsWith(method)) throw err;
      last = `${h}: ${(err as Error).message}`;
    }
  }
  throw new Error(`${method} ${path}: no controller answered (${last})`);
}

export async function vigilSystem(lab: Lab, name: string, group: LabRedis[], downAfterMs: number): Promise<SystemUnderTest> {
  const zones = ['a', 'b', 'c'];
  await api(lab, 'POST', '/api/v1/clusters', {
    name,
    nodes: group.map((r, i) => ({ host: r.host, port: r.port, zone: `zone-${zones[i]}` })),
    quorum: 2,
    downAfterMs,
    cooldownMs: 0,
  });
  await waitFor(
    async () => {
      const h = await api<{ nodes: { state: string; voters: number }[] }>(lab, 'GET', `/api/v1/clusters/${name}/health`);
      return h.nodes.length === 3 && h.nodes.every((x) => x.state === 'up' && x.voters === 3);
    },
    30_000,
    `${name} watched by three agents`,
    100,
  );
  const sentinels = CONTROLLER_HOSTS.map((h) => ({ host: lab.ip(h), port: SENTINEL_PORT }));
  const dns = CONTROLLER_HOSTS.map((h) => ({ host: lab.ip(h), port: DNS_PORT }));
  const bases = CONTROLLER_HOSTS.map((h) => `http://${lab.ip(h)}:${HTTP_PORT}`);
  return {
    watchers: AGENT_HOSTS,
    writers: () => [
      ioredisSentinelWriter(sentinels, name),
      nodeRedisSentinelWriter(sentinels, name),
      dnsWriter(dns, `${name}.${DNS_ZONE.slice(0, -1)}`),
      restWriter(bases, name, ADMIN_TOKEN),
    ],
    async published() {
      const answers = await Promise.all(
        bases.map(async (b) => {
          const res = await fetch(`${b}/api/v1/clusters/${name}/master`, {
            headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
            signal: AbortSignal.timeout(1000),
          }).catch(() => undefined);
          if (!res?.ok) return undefined;
          const m = (await res.json()) as { host: string; port: number };
          return `${m.host}:${m.port}`;
        }),
      );
      return answers.every((a) => a !== undefined && a === answers[0]) ? answers[0] : undefined;
    },
    async switchover() {
      const record = await api<{ outcome: string }>(lab, 'POST', `/api/v1/clusters/${name}/switchover`, {});
      if (record.outcome !== 'succeeded') throw new Error(`switchover ${record.outcome}`);
    },
    async teardown() {
      await api(lab, 'DELETE', `/api/v1/clusters/${name}`).catch(() => undefined);
    },
  };
}

export async function sentinelSystem(lab: Lab, group: LabRedis[], port: number, downAfterMs: number): Promise<SystemUnderTest> {
  const name = 'm';
  const s: LabSentinels = await startLabSentinels(lab, group[0]!, port, name, downAfterMs);
  const addresses: Address[] = s.addresses;
  return {
    watchers: SENTINEL_HOSTS,
    writers: () => [ioredisSentinelWriter(addresses, name), nodeRedisSentinelWriter(addresses, name)],
    async published() {
      const answers = await Promise.all(
        addresses.map(async (a) => {
          const r = (await redisCall(a, 'SENTINEL', 'get-master-addr-by-name', name)) as string[] | null | undefined;
          return Array.isArray(r) ? `${r[0]}:${r[1]}` : undefined;
        }),
      );
      return answers.every((a) => a !== undefined && a === answers[0]) ? answers[0] : undefined;
    },
    async switchover() {
      const r = await redisCall(addresses[0]!, 'SENTINEL', 'FAILOVER', name);
      if (r !== 'OK') throw new Error(`SENTINEL FAILOVER answered ${String(r)}`);
    },
    teardown: () => s.stop(),
  };
}
