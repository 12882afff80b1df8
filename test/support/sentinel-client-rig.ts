import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import { freePort, type ManagedProcess, type RedisServer, startProcess, startReplicationGroup, waitFor } from '../../libs/testing/src/index.js';
import { type Endpoint, type SentinelClientName, type SentinelWriter, startSentinelWriter } from '../../libs/testing/src/sentinel-writers.js';
import { ADMIN_TOKEN, apiClient, type Api, freshDatabase, SECRET_KEY } from './controller.js';
import { type AgentProcess, startAgentProcess, waitAllUp, waitForEvent } from './detection-rig.js';

const CONTROLLER = 'dist/apps/controller/src/main.js';
export const CLUSTER = 'orders';
const DOWN_AFTER_MS = 1000;

interface ControllerSlot {
  httpPort: number;
  sentinelPort: number;
  name: string;
  proc: ManagedProcess | undefined;
  api: Api;
}

/**
 * Two controller processes (fixed HTTP and Sentinel ports, so a restarted one comes back at the same
 * address), three agents reporting to both, and a master with two replicas watched as `orders`
 * (down-after 1 s). Clients are given only the two Sentinel endpoints.
 */
export class SentinelClientRig {
  readonly endpoints: Endpoint[] = [];
  servers: RedisServer[] = [];
  private readonly slots: ControllerSlot[] = [];
  private readonly agents: AgentProcess[] = [];
  private databaseUrl = '';

  get api(): Api {
    return this.slots[1]!.api;
  }

  async start(): Promise<void> {
    if (!existsSync(CONTROLLER)) throw new Error('build output missing: run `npm run build` (npm test does it for you)');
    this.databaseUrl = await freshDatabase();
    for (const name of ['vigil-a', 'vigil-b']) {
      const httpPort = await freePort();
      const sentinelPort = await freePort();
      const slot: ControllerSlot = { httpPort, sentinelPort, name, proc: undefined, api: apiClient(`http://127.0.0.1:${httpPort}`) };
      this.slots.push(slot);
      this.endpoints.push({ host: '127.0.0.1', port: sentinelPort });
      await this.startController(slot);
    }
    const token = (await this.api('POST', '/api/v1/tokens', { body: { name: 'probes', role: 'agent' } })).body.token as string;
    const urls = this.slots.map((s) => `http://127.0.0.1:${s.httpPort}`).join(',');
    for (const z of ['a', 'b', 'c']) this.agents.push(startAgentProcess(`probe-${z}`, `zone-${z}`, token, urls, { PROBE_INTERVAL_MS: '100' }));
    this.servers = await startReplicationGroup(2);
    const res = await this.api('POST', '/api/v1/clusters', {
      body: { name: CLUSTER, nodes: this.servers.map((s) => ({ host: s.host, port: s.port })), quorum: 2, downAfterMs: DOWN_AFTER_MS, cooldownMs: 0 },
    });
    if (res.status !== 201) throw new Error(`create ${CLUSTER}: ${res.status} ${res.text}`);
    for (const s of this.slots) await waitAllUp(s.api, CLUSTER, 3, 20_000);
  }

  private async startController(slot: ControllerSlot): Promise<void> {
    const proc = startProcess('node', [CONTROLLER], {
      env: {
        ...process.env,
        DATABASE_URL: this.databaseUrl,
        VIGIL_SECRET_KEY: SECRET_KEY,
        VIGIL_ADMIN_TOKEN: ADMIN_TOKEN,
        HTTP_PORT: String(slot.httpPort),
        HTTP_HOST: '127.0.0.1',
        SENTINEL_PORT: String(slot.sentinelPort),
        SENTINEL_ANNOUNCE_IP: '127.0.0.1',
        PUBLISH_HOST: '127.0.0.1',
        CONTROLLER_NAME: slot.name,
        AGENT_STALE_AFTER_MS: '1000',
        LEADER_LEASE_MS: '1500',
        LEADER_RENEW_MS: '300',
        REDIS_ADMIN_TIMEOUT_MS: '500',
        LOG_LEVEL: 'warn',
      },
    });
    slot.proc = proc;
    await waitFor(
      async () => {
        if (proc.child.exitCode !== null) throw new Error(proc.output());
        return (await fetch(`http://127.0.0.1:${slot.httpPort}/health/ready`).catch(() => undefined))?.ok;
      },
      30_000,
      `${slot.name} ready`,
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.agents.map((a) => a.process.stop()));
    await Promise.all(this.slots.map((s) => s.proc?.stop()));
    await Promise.all(this.servers.map((s) => s.stop()));
  }

  async master(): Promise<{ host: string; port: number; epoch: number }> {
    return (await this.api('GET', `/api/v1/clusters/${CLUSTER}/master`)).body;
  }

  server(port: number): RedisServer {
    return this.servers.find((s) => s.port === port)!;
  }

  async writers(clients: readonly SentinelClientName[]): Promise<SentinelWriter[]> {
    return Promise.all(clients.map((c) => startSentinelWriter(c, this.endpoints, CLUSTER, `w:${c.replace(' ', '-')}`)));
  }

  /**
   * SIGKILLs the master while the agents are frozen (SIGSTOP) for `freezeMs`, so nothing but the endpoint's
   * own link can tell the crash at first (as a client that re-asks within milliseconds of a crash sees it);
   * `flagsSeen` is each endpoint's `SENTINEL MASTER` flags 100 ms after the crash. Resolves with the kill
   * time and the new master once `failover.succeeded` is recorded.
   */
  async crashMaster(freezeMs = 600): Promise<{ at: number; from: RedisServer; to: RedisServer; flagsSeen: string[] }> {
    const before = await this.master();
    const from = this.server(before.port);
    const known = (await this.failovers()).length;
    for (const a of this.agents) a.process.child.kill('SIGSTOP');
    let flagsSeen: string[];
    let at: number;
    try {
      from.signal('SIGKILL');
      await from.process.exited; // writes sent from now on cannot reach it
      at = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 100));
      flagsSeen = await Promise.all(this.endpoints.map((e) => masterFlags(e)));
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, at + freezeMs - Date.now())));
    } finally {
      for (const a of this.agents) a.process.child.kill('SIGCONT');
    }
    await waitFor(async () => (await this.failovers()).length > known, 20_000, 'a failover.succeeded after the crash', 50);
    const after = await this.master();
    return { at, from, to: this.server(after.port), flagsSeen };
  }

  /** `POST /clusters/orders/switchover`; resolves with the request time and both masters. */
  async switchover(): Promise<{ at: number; from: RedisServer; to: RedisServer }> {
    const before = await this.master();
    const at = Date.now();
    const res = await (await this.leader())('POST', `/api/v1/clusters/${CLUSTER}/switchover`, { body: {} });
    expect(res.body, res.text).toMatchObject({ trigger: 'switchover', outcome: 'succeeded' });
    const after = await this.master();
    return { at, from: this.server(before.port), to: this.server(after.port) };
  }

  /** SIGKILLs the first controller (the clients' first endpoint) and starts it again at the same addresses. */
  async restartController(): Promise<{ at: number }> {
    const slot = this.slots[0]!;
    await slot.proc!.stop('SIGKILL');
    const at = Date.now();
    await this.startController(slot);
    await waitAllUp(slot.api, CLUSTER, 3, 20_000);
    return { at };
  }

  /** The API of the replica holding the leader lease now. */
  private async leader(): Promise<Api> {
    return waitFor(
      async () => {
        for (const s of this.slots) if ((await s.api('GET', '/api/v1/leadership').catch(() => undefined))?.body?.leader === true) return s.api;
        return undefined;
      },
      10_000,
      'a leader',
    );
  }

  private async failovers(): Promise<unknown[]> {
    const res = await this.api('GET', `/api/v1/events?cluster=${CLUSTER}&type=failover.succeeded&limit=500`);
    return res.body.items;
  }

  waitForEvent = (type: string, timeoutMs: number) => waitForEvent(this.api, CLUSTER, type, timeoutMs);
}

/**
 * Waits until every writer has `count` acknowledgements after `t` (failing with each stuck client's last
 * error), and answers each client's outage: from `t` to its first acknowledgement after it.
 */
export async function waitWriting(writers: SentinelWriter[], t: number, timeoutMs: number, count = 5): Promise<Map<string, number>> {
  await waitFor(async () => writers.every((w) => w.acks.filter((a) => a.sent > t).length >= count), timeoutMs, 'every client writing again', 50).catch(
    (err: Error) => {
      const stuck = writers.filter((w) => w.acks.filter((a) => a.sent > t).length < count);
      throw new Error(`${err.message}: ${stuck.map((w) => `${w.client} (${w.errors} errors, last: ${w.lastError ?? 'none'})`).join('; ')}`);
    },
  );
  return new Map(writers.map((w) => [w.client, w.firstAckAfter(t)!.at - t]));
}

/** `SENTINEL MASTER orders` flags at one endpoint. */
async function masterFlags(e: Endpoint): Promise<string> {
  const c = new Redis({ host: e.host, port: e.port, lazyConnect: true, retryStrategy: () => null });
  c.on('error', () => undefined);
  try {
    await c.connect();
    const flat = (await c.call('SENTINEL', 'master', CLUSTER)) as string[];
    return flat[flat.indexOf('flags') + 1]!;
  } finally {
    c.disconnect();
  }
}

/** The list each writer pushed to, as `server` holds it now. */
export async function storedSeqs(server: RedisServer, writer: SentinelWriter): Promise<Set<number>> {
  const c = server.client();
  c.on('error', () => undefined);
  try {
    await c.connect();
    return new Set((await c.lrange(writer.key, 0, -1)).map(Number));
  } finally {
    c.disconnect();
  }
}
