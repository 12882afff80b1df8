/**
 * The chaos runner. It runs on the lab's `app` host (started by `main.ts`, which owns the lab): it starts
 * PostgreSQL, two controllers and three agents once, then for every scenario × trial × system a fresh
 * redis-server group (and, for Sentinel, three fresh sentinels), the workload and the observer; injects
 * the scenario's faults, heals, waits until the system has converged, and checks. Prints one line per
 * trial and, last, one JSON object `{"summary": …}`.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import pg from 'pg';
import { deposedAcks, judge, longestGap, lostWindowMs, promotions, splitBrainMs } from '../../libs/chaos/src/checker.js';
import { Lab, type LabDescription } from '../../libs/chaos/src/lab.js';
import { HEALED } from '../../libs/chaos/src/network.js';
import { mixSeed, mulberry32 } from '../../libs/chaos/src/random.js';
import type { System, TrialResult } from '../../libs/chaos/src/types.js';
import { type ManagedProcess, waitFor } from '../../libs/testing/src/index.js';
import { startObserver } from './observer.js';
import type { ChaosOptions } from './options.js';
import { type Scenario, SCENARIOS, type ScenarioContext } from './scenarios.js';
import {
  ADMIN_TOKEN,
  AGENT_HOSTS,
  HTTP_PORT,
  type LabPostgres,
  type LabRedis,
  redisCall,
  startLabAgent,
  startLabController,
  startLabGroup,
  startLabPostgres,
  ZONES,
} from './services.js';
import { api, sentinelSystem, type SystemUnderTest, vigilSystem } from './systems.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const log = (line: string) => process.stdout.write(`${line}\n`);

interface Infra {
  lab: Lab;
  pg: LabPostgres;
  controllers: Record<'c1' | 'c2', ManagedProcess>;
  agents: Record<string, ManagedProcess>;
  agentToken: string;
  databaseUrl: string;
}

function signalHostProcesses(lab: Lab, host: string, sig: NodeJS.Signals): void {
  const pids = execFileSync('ip', ['netns', 'pids', lab.ns(host)], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map(Number);
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // exited
    }
  }
}

async function controllerReady(lab: Lab, host: string, proc: ManagedProcess): Promise<void> {
  await waitFor(
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`controller ${host} exited: ${proc.output().slice(-1500)}`);
      return (await fetch(`http://${lab.ip(host)}:${HTTP_PORT}/health/ready`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined))?.ok;
    },
    60_000,
    `controller ${host} ready`,
    100,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; output: ${proc.output().slice(-1500)}`);
  });
}

/**
 * The leader lease bounds how soon a standby may act when the leader's zone is cut off, so it is set to
 * down-after, as README advises: a lease longer than down-after makes that failover wait for the lease.
 */
function controllerEnv(o: ChaosOptions): Record<string, string> {
  return { LEADER_LEASE_MS: String(o.leaderLeaseMs ?? o.downAfterMs) };
}

async function startInfra(lab: Lab, o: ChaosOptions): Promise<Infra> {
  const pgServer = await startLabPostgres(lab);
  const admin = new pg.Client({ connectionString: pgServer.url('postgres') });
  await admin.connect();
  await admin.query('CREATE DATABASE vigil');
  await admin.end();
  const databaseUrl = pgServer.url('vigil');
  const c1 = startLabController(lab, 'c1', databaseUrl, controllerEnv(o));
  await controllerReady(lab, 'c1', c1);
  const c2 = startLabController(lab, 'c2', databaseUrl, controllerEnv(o));
  await controllerReady(lab, 'c2', c2);
  const token = (await api<{ token: string }>(lab, 'POST', '/api/v1/tokens', { name: 'chaos-agents', role: 'agent' })).token;
  const agents = Object.fromEntries(AGENT_HOSTS.map((h, i) => [h, startLabAgent(lab, h, 'abc'[i]!, token, o.probeIntervalMs)]));
  return { lab, pg: pgServer, controllers: { c1, c2 }, agents, agentToken: token, databaseUrl };
}

async function leaderHost(lab: Lab): Promise<string> {
  return waitFor(
    async () => {
      for (const h of ['c1', 'c2']) {
        const res = await fetch(`http://${lab.ip(h)}:${HTTP_PORT}/api/v1/leadership`, {
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
          signal: AbortSignal.timeout(1000),
        }).catch(() => undefined);
        if (res?.ok && ((await res.json()) as { leader: boolean }).leader) return h;
      }
      return undefined;
    },
    30_000,
    'a leader controller',
    200,
  );
}

/** Everything healed and running, one master that every node and the system agree on, replicas linked to it. */
async function converge(sut: SystemUnderTest, group: LabRedis[]): Promise<string> {
  return waitFor(
    async () => {
      const roles = await Promise.all(group.map((r) => redisCall(r, 'ROLE') as Promise<unknown[] | undefined>));
      const masters = group.filter((_, i) => roles[i]?.[0] === 'master');
      if (masters.length !== 1) return undefined;
      const m = `${masters[0]!.host}:${masters[0]!.port}`;
      if ((await sut.published()) !== m) return undefined;
      for (const r of group) {
        if (r === masters[0]) continue;
        const info = String(await redisCall(r, 'INFO', 'replication'));
        if (!info.includes(`master_host:${masters[0]!.host}`) || !info.includes(`master_port:${masters[0]!.port}`) || !info.includes('master_link_status:up'))
          return undefined;
      }
      return m;
    },
    90_000,
    'one master, published and followed',
    200,
  );
}

/** The acknowledged keys missing (or changed) on `master`. */
async function missingKeys(master: string, keys: string[]): Promise<Set<string>> {
  const [host, port] = master.split(':');
  const c = new Redis({ host, port: Number(port), lazyConnect: true, commandTimeout: 10_000 });
  c.on('error', () => undefined);
  await c.connect();
  const missing = new Set<string>();
  try {
    for (let i = 0; i < keys.length; i += 1000) {
      const chunk = keys.slice(i, i + 1000);
      const values = await c.mget(...chunk);
      values.forEach((v, j) => {
        if (v !== chunk[j]!.slice(chunk[j]!.lastIndexOf(':') + 1)) missing.add(chunk[j]!);
      });
    }
  } finally {
    c.disconnect();
  }
  return missing;
}

let counter = 0;

async function runTrial(infra: Infra, o: ChaosOptions, scenario: Scenario, trial: number, system: System): Promise<TrialResult> {
  const { lab } = infra;
  const seed = mixSeed(o.seed, scenario.name, trial, system);
  const rng = mulberry32(seed);
  const n = counter++;
  const port = 7000 + n;
  const base: TrialResult = {
    scenario: scenario.name,
    system,
    trial,
    seed,
    expect: scenario.expect,
    failovers: 0,
    falseFailover: false,
    missedFailover: false,
    acked: 0,
    lost: 0,
    indeterminate: 0,
    deposedAcks: 0,
    splitBrainMs: 0,
    outageMs: {},
  };
  const group = await startLabGroup(lab, port);
  let sut: SystemUnderTest | undefined;
  const cleanup: (() => Promise<void>)[] = [];
  try {
    sut = system === 'vigil' ? await vigilSystem(lab, `t${n}`, group, o.downAfterMs) : await sentinelSystem(lab, group, 26400 + (n % 500), o.downAfterMs);
    const observer = startObserver(group);
    cleanup.push(() => observer.stop());
    const writers = sut.writers();
    cleanup.push(async () => void (await Promise.all(writers.map((w) => w.stop()))));
    await waitFor(async () => writers.every((w) => w.writes.some((x) => x.outcome === 'ok')), 20_000, 'every client writing');
    await sleep(500);
    const originalMaster = `${group[0]!.host}:${group[0]!.port}`;
    const promotedSince = (t: number) => promotions(observer.samples.filter((s) => s.at >= t)).length > 0;
    const faultAt = Date.now();
    const ctx: ScenarioContext = {
      system,
      rng,
      downAfterMs: o.downAfterMs,
      master: group[0]!,
      replicas: group.slice(1),
      watchers: sut.watchers,
      zones: [ZONES['a']!, ZONES['b']!, ZONES['c']!],
      allHosts: lab.hosts.filter((h) => h !== 'app'),
      net: (state) => lab.applyNetwork(state),
      sleep,
      waitForPromotion: (timeoutMs) =>
        waitFor(async () => promotedSince(faultAt), timeoutMs, 'a promotion', 50).then(
          () => true,
          () => false,
        ),
      restart: (node) => node.restart(),
      signalWatcher: (i, sig) => signalHostProcesses(lab, sut!.watchers[i]!, sig),
      leader: () => leaderHost(lab),
      signalHost: (host, sig) => signalHostProcesses(lab, host, sig),
      async restartHost(host) {
        if (host === 'pg') return infra.pg.restart();
        await infra.controllers[host].stop('SIGKILL');
        infra.controllers[host] = startLabController(lab, host, infra.databaseUrl, controllerEnv(o));
        await controllerReady(lab, host, infra.controllers[host]);
      },
      switchover: () => sut!.switchover(),
      async slowMasterPath(host, delayMs, jitterMs) {
        const undo = await lab.delayPath(host, group[0]!, delayMs, jitterMs, 'dist/scripts/chaos/delay-proxy.js');
        await ctx.restartWithClock(host, undefined);
        return async () => {
          await undo();
          await ctx.restartWithClock(host, undefined);
        };
      },
      async restartWithClock(host, offsetS) {
        if (host === 'c1' || host === 'c2') {
          await infra.controllers[host].stop('SIGKILL');
          infra.controllers[host] = startLabController(lab, host, infra.databaseUrl, controllerEnv(o), offsetS);
          await controllerReady(lab, host, infra.controllers[host]);
          return;
        }
        await infra.agents[host]!.stop('SIGKILL');
        const restartedAt = Date.now();
        infra.agents[host] = startLabAgent(lab, host, 'abc'[AGENT_HOSTS.indexOf(host)]!, infra.agentToken, o.probeIntervalMs, offsetS);
        // Its new process votes: a fresh valid reply from it on every node.
        await waitFor(
          async () => {
            const h = await api<{ nodes: { agents: { name: string; voting: boolean; lastOkAt: string | null }[] }[] }>(
              lab,
              'GET',
              `/api/v1/clusters/t${n}/health`,
            );
            return h.nodes.every((x) =>
              x.agents.some((a) => a.name === `agent-${host}` && a.voting && a.lastOkAt !== null && Date.parse(a.lastOkAt) > restartedAt),
            );
          },
          30_000,
          `agent ${host} voting again`,
          100,
        );
      },
    };
    try {
      await scenario.run(ctx);
    } finally {
      await lab.applyNetwork(HEALED);
      for (const r of group) r.signal('SIGCONT');
      for (const h of [...sut.watchers, 'c1', 'c2', 'pg']) signalHostProcesses(lab, h, 'SIGCONT');
    }
    const finalMaster = await converge(sut, group);
    await sleep(1000);
    const stopAt = Date.now();
    await cleanup.pop()!();
    await cleanup.pop()!();
    const writes = writers.flatMap((w) => w.writes);
    const acked = writes.filter((w) => w.outcome === 'ok');
    const promoted = promotions(observer.samples);
    const failovers = promoted.length;
    const missing = await missingKeys(
      finalMaster,
      acked.map((w) => w.key),
    );
    return {
      ...base,
      failovers,
      ...(promoted[0] ? { failoverMs: promoted[0].at - faultAt } : {}),
      ...judge(scenario.expect, failovers),
      acked: acked.length,
      lost: missing.size,
      indeterminate: writes.filter((w) => w.outcome === 'unknown').length,
      deposedAcks: deposedAcks(writes, promoted, originalMaster),
      splitBrainMs: splitBrainMs(observer.samples),
      outageMs: Object.fromEntries(writers.map((w) => [w.path, longestGap(w.writes, faultAt, stopAt)])),
      byPath: Object.fromEntries(
        writers.map((w) => {
          const ok = w.writes.filter((x) => x.outcome === 'ok');
          return [w.path, { acked: ok.length, lost: ok.filter((x) => missing.has(x.key)).length, lostMs: lostWindowMs(w.writes, missing) }];
        }),
      ),
    };
  } catch (err) {
    return { ...base, error: (err as Error).message.slice(0, 300) };
  } finally {
    await lab.applyNetwork(HEALED).catch(() => undefined);
    for (const f of cleanup.reverse()) await f().catch(() => undefined);
    await sut?.teardown().catch(() => undefined);
    await Promise.all(group.map((r) => r.stop()));
  }
}

function describeTrial(t: TrialResult): string {
  if (t.error) return `${t.system.padEnd(8)} ${t.scenario} #${t.trial} (seed ${t.seed}): ERROR ${t.error}`;
  const outage = Object.entries(t.outageMs)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const lost = Object.entries(t.byPath ?? {})
    .map(([k, v]) => `${k} ${v.lost}/${v.acked} (${v.lostMs ?? 0} ms)`)
    .join(', ');
  const verdict = t.falseFailover ? ' FALSE FAILOVER' : t.missedFailover ? ' MISSED FAILOVER' : '';
  const took = t.failoverMs !== undefined ? ` after ${t.failoverMs} ms` : '';
  return `${t.system.padEnd(8)} ${t.scenario} #${t.trial} (seed ${t.seed}): failovers ${t.failovers}${took}${verdict}, acked ${t.acked}, lost ${t.lost}, indeterminate ${t.indeterminate}, deposed acks ${t.deposedAcks}, split brain ${t.splitBrainMs} ms, outage ms: ${outage}; lost/acked: ${lost}`;
}

export async function runChaos(o: ChaosOptions, description: LabDescription): Promise<TrialResult[]> {
  const lab = Lab.attach(description);
  const chosen = o.scenarios.length ? SCENARIOS.filter((s) => o.scenarios.includes(s.name)) : SCENARIOS;
  const unknown = o.scenarios.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length) throw new Error(`unknown scenario(s): ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  const infra = await startInfra(lab, o);
  const results: TrialResult[] = [];
  for (const scenario of chosen) {
    const trials = o.trials ?? scenario.trials;
    for (let trial = 0; trial < trials; trial++) {
      for (const system of o.systems) {
        if (scenario.systems && !scenario.systems.includes(system)) continue;
        const t = await runTrial(infra, o, scenario, trial, system);
        results.push(t);
        log(describeTrial(t));
        if (o.resultsFile) writeFileSync(o.resultsFile, JSON.stringify(results, null, 1));
      }
    }
  }
  await Promise.all([infra.controllers.c1.stop('SIGTERM', 5000), infra.controllers.c2.stop('SIGTERM', 5000)]);
  await infra.pg.stop();
  return results;
}
