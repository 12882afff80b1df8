/**
 * `npm run bench:failover`: failover time and lost writes, Vigil against Redis Sentinel, on this machine
 * in one run. For each down-after (1000 and 5000 ms) and fault (master crash = SIGKILL, master hang =
 * SIGSTOP), BENCH_TRIALS trials (5) each: a fresh master + 2 replicas, a client writing sequential keys
 * continuously, then the fault. Measured from the fault: new master published (Vigil: `master.changed`
 * recorded; Sentinel: `+switch-master` received), the client's first acknowledged write after the fault
 * (the write outage), and acknowledged writes missing from the new master afterwards.
 *
 * Vigil: one controller process on a temporary PostgreSQL, three probe agents (PROBE_INTERVAL_MS, default
 * the agents' 500 ms). Sentinel: three `redis-server --sentinel` with quorum 2. Clients: ioredis with a
 * 500 ms command timeout; the Vigil client asks `GET /clusters/{name}` for the master after an error, the
 * Sentinel client is ioredis' own Sentinel support (with its failover detector).
 */
import os from 'node:os';
import { Redis } from 'ioredis';
import {
  createDatabase,
  freePort,
  type ManagedProcess,
  type PostgresServer,
  type RedisServer,
  startPostgres,
  startProcess,
  startReplicationGroup,
  waitFor,
} from '../libs/testing/src/index.js';
import { api, BENCH_ADMIN_TOKEN, startBenchAgents, watchedByAgents } from './bench/admin-api.js';
import { percentile, writeBenchmarkSection } from './bench/report.js';
import { type Sentinels, sentinelClient, startSentinels } from './bench/sentinels.js';

const TRIALS = Number(process.env['BENCH_TRIALS'] ?? 5);
const DOWN_AFTERS = (process.env['BENCH_DOWN_AFTERS'] ?? '1000,5000').split(',').map(Number);
const FAULTS = (process.env['BENCH_FAULTS'] ?? 'crash,hang').split(',') as Fault[];
const SYSTEMS = (process.env['BENCH_SYSTEMS'] ?? 'vigil,sentinel').split(',') as System[];
const PROBE_INTERVAL_MS = Number(process.env['PROBE_INTERVAL_MS'] ?? 500);

type Fault = 'crash' | 'hang';
type System = 'vigil' | 'sentinel';

interface Trial {
  system: System;
  fault: Fault;
  downAfterMs: number;
  publishedMs: number;
  firstWriteMs: number;
  lost: number;
  acked: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes `k0, k1, …` as fast as acknowledgements come; on an error, retries the same key after `recover()`. */
class Writer {
  readonly acked: number[] = [];
  readonly ackTimes: number[] = [];
  lastAckAt = 0;
  /** The first acknowledged write after the first failed one since the fault: the end of the outage. */
  firstAckAfter: number | undefined;
  lastError = '';
  private faultAt: number | undefined;
  private failedSinceFault = false;
  private stopped = false;
  private done: Promise<void> | undefined;

  constructor(
    private client: Redis,
    private readonly recover: (old: Redis) => Promise<Redis>,
  ) {}

  start(): void {
    this.done = (async () => {
      for (let i = 0; !this.stopped;) {
        try {
          await this.client.set(`k${i}`, String(i));
          const now = Date.now();
          this.acked.push(i++);
          this.ackTimes.push(now);
          this.lastAckAt = now;
          if (this.failedSinceFault && this.firstAckAfter === undefined) this.firstAckAfter = now;
        } catch (err) {
          this.lastError = (err as Error).message;
          if (this.faultAt !== undefined) this.failedSinceFault = true;
          this.client = await this.recover(this.client).catch(() => this.client);
          await sleep(5);
        }
      }
    })();
  }

  /** The longest time without an acknowledged write since `from`: the write outage of a planned switch. */
  maxGapSince(from: number): number {
    let gap = 0;
    let prev = from;
    for (const t of this.ackTimes) {
      if (t < from) continue;
      gap = Math.max(gap, t - prev);
      prev = t;
    }
    return gap;
  }

  fault(at: number): void {
    this.faultAt = at;
  }

  async stop(): Promise<Redis> {
    this.stopped = true;
    await this.done;
    return this.client;
  }
}

function client(host: string, port: number): Redis {
  const c = new Redis({ host, port, commandTimeout: 500, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 50, lazyConnect: true });
  c.on('error', () => undefined);
  c.connect().catch(() => undefined);
  return c;
}

async function countLost(master: { host: string; port: number }, acked: number[]): Promise<number> {
  const c = new Redis({ host: master.host, port: master.port, lazyConnect: true });
  c.on('error', () => undefined);
  await c.connect();
  let lost = 0;
  for (let i = 0; i < acked.length; i += 1000) {
    const keys = acked.slice(i, i + 1000);
    const values = await c.mget(...keys.map((k) => `k${k}`));
    values.forEach((v, j) => {
      if (v !== String(keys[j])) lost++;
    });
  }
  c.disconnect();
  return lost;
}

function inject(fault: Fault, server: RedisServer): number {
  const at = Date.now();
  server.signal(fault === 'crash' ? 'SIGKILL' : 'SIGSTOP');
  return at;
}

async function vigilTrial(base: string, n: number, fault: Fault, downAfterMs: number): Promise<Trial> {
  const group = await startReplicationGroup(2);
  const name = `bench-${fault}-${downAfterMs}-${n}`;
  try {
    await api(base, 'POST', '/api/v1/clusters', { name, nodes: group.map(({ host, port }) => ({ host, port })), quorum: 2, downAfterMs, cooldownMs: 0 });
    await watchedByAgents(base, name);
    const byPort = new Map(group.map((s) => [s.port, s]));
    const master = group[0]!;
    const writer = new Writer(client(master.host, master.port), async (old) => {
      const now = (await api<{ master: { host: string; port: number } | null }>(base, 'GET', `/api/v1/clusters/${name}`)).master;
      if (!now || (now.port === old.options.port && old.status === 'ready')) return old;
      old.disconnect();
      return client(now.host, byPort.get(now.port)!.port);
    });
    writer.start();
    await sleep(1000);
    const at = inject(fault, master);
    writer.fault(at);
    const changed = await waitFor(
      async () => (await api<{ items: { at: string }[] }>(base, 'GET', `/api/v1/events?cluster=${name}&type=master.changed`)).items[0],
      downAfterMs + 30_000,
      `${name}: master.changed`,
      20,
    );
    await waitFor(async () => writer.firstAckAfter !== undefined, 30_000, `${name}: the client writing again`, 20);
    await sleep(500);
    const last = await writer.stop();
    last.disconnect();
    const newMaster = (await api<{ master: { host: string; port: number } }>(base, 'GET', `/api/v1/clusters/${name}`)).master;
    return {
      system: 'vigil',
      fault,
      downAfterMs,
      publishedMs: Date.parse(changed.at) - at,
      firstWriteMs: writer.firstAckAfter! - at,
      lost: await countLost(newMaster, writer.acked),
      acked: writer.acked.length,
    };
  } finally {
    group[0]!.signal('SIGCONT');
    await Promise.all(group.map((s) => s.stop()));
    await api(base, 'DELETE', `/api/v1/clusters/${name}`).catch(() => undefined);
  }
}

/** Three Sentinels for master name `m`, quorum 2, as every Sentinel trial uses them. */
function threeSentinels(master: RedisServer, downAfterMs: number): Promise<Sentinels> {
  return startSentinels(master, { name: 'm', count: 3, quorum: 2, downAfterMs, failoverTimeoutMs: 60_000, replicas: 2 });
}

function newSentinelClient(ports: number[]): Redis {
  return sentinelClient(
    ports.map((port) => ({ host: '127.0.0.1', port })),
    'm',
  );
}

/** The first `+switch-master` a subscriber sees: when, and the new master. */
async function watchSwitch(sub: Redis): Promise<{ at?: number; to?: { host: string; port: number } }> {
  const switched: { at?: number; to?: { host: string; port: number } } = {};
  await sub.subscribe('+switch-master');
  sub.on('message', (_channel: string, message: string) => {
    const [, , , host, port] = message.split(' ');
    switched.at ??= Date.now();
    switched.to ??= { host: host!, port: Number(port) };
  });
  return switched;
}

/** A connected Sentinel client and a writer on it. ioredis re-resolves the master itself; a client that gave up (status `end`) is made anew, as an application would. */
async function startSentinelWriter(ports: number[]): Promise<{ sentinelClient: Redis; writer: Writer }> {
  const sentinelClient = newSentinelClient(ports);
  await waitFor(async () => sentinelClient.status === 'ready', 10_000, 'the Sentinel client to connect');
  const writer = new Writer(sentinelClient, async (c) => {
    if (c.status !== 'end') return c;
    c.disconnect();
    return newSentinelClient(ports);
  });
  writer.start();
  return { sentinelClient, writer };
}

async function sentinelTrial(fault: Fault, downAfterMs: number): Promise<Trial> {
  const group = await startReplicationGroup(2);
  const { procs, ports } = await threeSentinels(group[0]!, downAfterMs);
  const sub = new Redis({ port: ports[0]!, lazyConnect: true });
  sub.on('error', () => undefined);
  try {
    await sub.connect();
    const switched = await watchSwitch(sub);
    const { sentinelClient, writer } = await startSentinelWriter(ports);
    await sleep(1000);
    const at = inject(fault, group[0]!);
    writer.fault(at);
    await waitFor(async () => switched.at !== undefined, downAfterMs + 60_000, '+switch-master', 20);
    await waitFor(async () => writer.firstAckAfter !== undefined, 60_000, 'the Sentinel client writing again', 20).catch((err: Error) => {
      throw new Error(`${err.message} (last error: ${writer.lastError}; client ${sentinelClient.status})`);
    });
    await sleep(500);
    (await writer.stop()).disconnect();
    return {
      system: 'sentinel',
      fault,
      downAfterMs,
      publishedMs: switched.at! - at,
      firstWriteMs: writer.firstAckAfter! - at,
      lost: await countLost(switched.to!, writer.acked),
      acked: writer.acked.length,
    };
  } finally {
    sub.disconnect();
    group[0]!.signal('SIGCONT');
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await Promise.all(group.map((s) => s.stop()));
  }
}

interface SwitchTrial {
  system: System;
  outageMs: number;
  lost: number;
  acked: number;
}

async function vigilSwitchover(base: string, n: number): Promise<SwitchTrial> {
  const group = await startReplicationGroup(2);
  const name = `bench-switch-${n}`;
  try {
    await api(base, 'POST', '/api/v1/clusters', { name, nodes: group.map(({ host, port }) => ({ host, port })), quorum: 2, downAfterMs: 5000, cooldownMs: 0 });
    const byPort = new Map(group.map((s) => [s.port, s]));
    const writer = new Writer(client(group[0]!.host, group[0]!.port), async (old) => {
      const now = (await api<{ master: { host: string; port: number } | null }>(base, 'GET', `/api/v1/clusters/${name}`)).master;
      if (!now || (now.port === old.options.port && old.status === 'ready')) return old;
      old.disconnect();
      return client(now.host, byPort.get(now.port)!.port);
    });
    writer.start();
    await sleep(1000);
    const from = Date.now();
    const record = await api<{ outcome: string; to: string }>(base, 'POST', `/api/v1/clusters/${name}/switchover`, {});
    if (record.outcome !== 'succeeded') throw new Error(`switchover ${record.outcome}`);
    await sleep(1000);
    (await writer.stop()).disconnect();
    const [host, port] = record.to.split(':');
    return {
      system: 'vigil',
      outageMs: writer.maxGapSince(from),
      lost: await countLost({ host: host!, port: Number(port) }, writer.acked),
      acked: writer.acked.length,
    };
  } finally {
    await Promise.all(group.map((s) => s.stop()));
    await api(base, 'DELETE', `/api/v1/clusters/${name}`).catch(() => undefined);
  }
}

async function sentinelSwitchover(): Promise<SwitchTrial> {
  const group = await startReplicationGroup(2);
  const { procs, ports } = await threeSentinels(group[0]!, 5000);
  const sub = new Redis({ port: ports[0]!, lazyConnect: true });
  sub.on('error', () => undefined);
  try {
    await sub.connect();
    const switched = await watchSwitch(sub);
    const { writer } = await startSentinelWriter(ports);
    await sleep(1000);
    const from = Date.now();
    const admin = new Redis({ port: ports[1]!, lazyConnect: true });
    await admin.connect();
    await admin.call('SENTINEL', 'FAILOVER', 'm');
    admin.disconnect();
    await waitFor(async () => switched.to !== undefined, 60_000, '+switch-master after SENTINEL FAILOVER', 20);
    await sleep(1000);
    (await writer.stop()).disconnect();
    return { system: 'sentinel', outageMs: writer.maxGapSince(from), lost: await countLost(switched.to!, writer.acked), acked: writer.acked.length };
  } finally {
    sub.disconnect();
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await Promise.all(group.map((s) => s.stop()));
  }
}

async function main(): Promise<void> {
  const procs: ManagedProcess[] = [];
  let pg: PostgresServer | undefined;
  const trials: Trial[] = [];
  try {
    pg = await startPostgres();
    const databaseUrl = await createDatabase(pg.adminUrl, 'vigil_bench');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const controller = startProcess('node', ['dist/apps/controller/src/main.js'], {
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        HTTP_PORT: String(port),
        HTTP_HOST: '127.0.0.1',
        VIGIL_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
        VIGIL_SECRET_KEY: 'c'.repeat(64),
        CONTROLLER_NAME: 'bench',
        LOG_LEVEL: 'warn',
        REDIS_ADMIN_TIMEOUT_MS: '500',
      },
    });
    procs.push(controller);
    await waitFor(async () => (await fetch(`${base}/health/ready`).catch(() => undefined))?.ok, 60_000, 'controller ready');
    const token = (await api<{ token: string }>(base, 'POST', '/api/v1/tokens', { name: 'bench-agents', role: 'agent' })).token;
    procs.push(...startBenchAgents(base, token, PROBE_INTERVAL_MS));
    for (const downAfterMs of DOWN_AFTERS) {
      for (const fault of FAULTS) {
        for (let n = 0; n < TRIALS; n++) {
          for (const system of SYSTEMS) {
            const t = system === 'vigil' ? await vigilTrial(base, n, fault, downAfterMs) : await sentinelTrial(fault, downAfterMs);
            trials.push(t);
            console.log(
              `${system.padEnd(8)} ${fault.padEnd(5)} down-after ${downAfterMs}: published ${t.publishedMs} ms, first write ${t.firstWriteMs} ms, lost ${t.lost} of ${t.acked}`,
            );
          }
        }
      }
    }
    const switches: SwitchTrial[] = [];
    for (let n = 0; n < TRIALS; n++) {
      for (const system of SYSTEMS) {
        const t = system === 'vigil' ? await vigilSwitchover(base, n) : await sentinelSwitchover();
        switches.push(t);
        console.log(`${system.padEnd(8)} switchover: write outage ${t.outageMs} ms, lost ${t.lost} of ${t.acked}`);
      }
    }
    writeBenchmarkSection('bench:failover', render(trials, switches));
    console.log('BENCHMARKS.md updated');
  } finally {
    await Promise.all(procs.map((p) => p.stop('SIGTERM', 5000)));
    await pg?.stop();
  }
}

function render(trials: Trial[], switches: SwitchTrial[]): string {
  const rows: string[] = [];
  for (const downAfterMs of DOWN_AFTERS) {
    for (const fault of FAULTS) {
      for (const system of ['vigil', 'sentinel'] as const) {
        const ts = trials.filter((t) => t.system === system && t.fault === fault && t.downAfterMs === downAfterMs);
        if (ts.length === 0) continue;
        const p = (xs: number[], q: number) => percentile(xs, q).toFixed(0);
        const pub = ts.map((t) => t.publishedMs);
        const wr = ts.map((t) => t.firstWriteMs);
        rows.push(
          `| ${downAfterMs} | ${fault} | ${system} | ${p(pub, 50)} / ${p(pub, 90)} | ${p(wr, 50)} / ${p(wr, 90)} | ${ts.map((t) => t.lost).join(', ')} | ${ts.map((t) => t.publishedMs).join(', ')} |`,
        );
      }
    }
  }
  return `## Failover against Redis Sentinel (\`npm run bench:failover\`)

Run ${new Date().toISOString()} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; Vigil's agents probe every ${PROBE_INTERVAL_MS} ms.

**Method.** For each down-after and fault, ${TRIALS} trials per system, alternating: a fresh master and two replicas
(redis-server), a client writing sequential keys as fast as they are acknowledged (ioredis, 500 ms command timeout),
then the master is crashed (SIGKILL) or hung (SIGSTOP). *Published*: Vigil's \`master.changed\` event recorded /
Sentinel's \`+switch-master\` received, after the fault. *First write*: the client's first acknowledged write after
the fault (Vigil's client asks \`GET /clusters/{name}\` after an error; Sentinel's is ioredis' Sentinel client).
*Lost*: acknowledged keys missing on the new master afterwards. Vigil: 3 agents, quorum 2, one controller; Sentinel:
3 sentinels, quorum 2.

| down-after (ms) | fault | system | published p50 / p90 (ms) | first write p50 / p90 (ms) | lost acknowledged writes per trial | published per trial (ms) |
|---|---|---|---|---|---|---|
${rows.join('\n')}

**Planned switchover** (${TRIALS} trials each, same writer): Vigil \`POST /clusters/{name}/switchover\` (Redis \`FAILOVER TO … TIMEOUT\`) against
\`SENTINEL FAILOVER\`. *Outage*: the longest time without an acknowledged write from the request on.

| system | outage p50 / p90 (ms) | outage per trial (ms) | lost acknowledged writes per trial |
|---|---|---|---|
${SYSTEMS.map((system) => {
  const ts = switches.filter((t) => t.system === system);
  const o = ts.map((t) => t.outageMs);
  return ts.length
    ? `| ${system} | ${percentile(o, 50).toFixed(0)} / ${percentile(o, 90).toFixed(0)} | ${o.join(', ')} | ${ts.map((t) => t.lost).join(', ')} |`
    : '';
}).join('\n')}
`;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
