import { setTimeout as sleep } from 'node:timers/promises';
import { startRedis, waitFor } from '../../libs/testing/src/index.js';
import { api } from '../bench/admin-api.js';
import { lastEventId, waitForEvent } from './events.js';
import type { Slot } from './slots.js';
import { controllerReady, leaderIndex, type SoakStack } from './stack.js';

export type FaultKind = 'master-sigkill' | 'agent-sigkill' | 'leader-sigterm' | 'switchover' | 'pg-connection-churn' | 'leader-sigkill';

/** The rotation: Redis faults alternate with control-plane faults. */
export const ROTATION: FaultKind[] = ['master-sigkill', 'agent-sigkill', 'leader-sigterm', 'switchover', 'pg-connection-churn', 'leader-sigkill'];

/** One injected fault: what was done, and which failover each cluster should show afterwards. */
export interface Fault {
  n: number;
  kind: FaultKind;
  /** Seconds since the soak began. */
  at: number;
  target: string;
  /** Events after this id belong to this fault's window. */
  cursor: number;
  /** The one cluster expected to fail over (exactly one `failover.started`), if any; every other: none. */
  expectFailover?: string;
  /** What happened while injecting (restart times, API outcome); `error` when the injection itself failed. */
  detail: string;
  error?: string;
}

export interface FaultContext {
  stack: SoakStack;
  t0: number;
  /** Counters that pick each kind's next target (groups and agents a/b rotate; agent c is never killed). */
  turns: Map<FaultKind, number>;
  log: (line: string) => void;
}

/** GET /clusters/{name}/master from the first controller that answers. */
export async function currentMaster(stack: SoakStack, cluster: string): Promise<{ host: string; port: number; epoch: number }> {
  let last: unknown;
  for (const base of stack.bases) {
    try {
      return await api(base, 'GET', `/api/v1/clusters/${cluster}/master`);
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

async function waitReady(stack: SoakStack, i: number): Promise<number> {
  const started = Date.now();
  await waitFor(() => controllerReady(stack.bases[i]!), 120_000, `${stack.controllers[i]!.name} ready`, 250);
  return Date.now() - started;
}

async function restartAgent(agent: Slot, signal: NodeJS.Signals): Promise<string> {
  await agent.stop(signal);
  await sleep(5000);
  agent.start();
  return `${agent.name} ${signal}, started again 5 s later (pid ${agent.pid})`;
}

async function restartLeader(stack: SoakStack, signal: NodeJS.Signals): Promise<{ target: string; detail: string }> {
  const i = Math.max(0, await leaderIndex(stack.bases));
  const c = stack.controllers[i]!;
  const t = Date.now();
  await c.stop(signal);
  const stoppedMs = Date.now() - t;
  if (signal === 'SIGKILL') await sleep(5000);
  c.start();
  const readyMs = await waitReady(stack, i);
  const other = await leaderIndex(stack.bases);
  return {
    target: c.name,
    detail: `${c.name} (leader) ${signal}: exited after ${stoppedMs} ms, ready again ${(readyMs / 1000).toFixed(1)} s after restart; leader now ${other >= 0 ? stack.controllers[other]!.name : 'none'}`,
  };
}

/** SIGKILLs the real cluster's master, waits for Vigil's failover, and starts the old master again as a replica of the new one. */
async function killMaster(ctx: FaultContext, cluster: string, cursor: number): Promise<string> {
  const group = ctx.stack.real.get(cluster)!;
  const before = await currentMaster(ctx.stack, cluster);
  const victim = group.get(before.port)!;
  const t = Date.now();
  victim.signal('SIGKILL');
  await victim.process.exited;
  const ok = await waitForEvent(ctx.stack.db, cursor, cluster, 'failover.succeeded', 120_000);
  const failoverMs = Date.now() - t;
  if (!ok) throw new Error(`no failover.succeeded for ${cluster} within 120 s of killing ${before.port}`);
  const after = await currentMaster(ctx.stack, cluster);
  await victim.stop(); // removes its directory; the process is already gone
  group.set(before.port, await startRedis({ port: before.port, replicaOf: { host: after.host, port: after.port } }));
  return `${cluster}: master ${before.port} SIGKILL; failover.succeeded after ${(failoverMs / 1000).toFixed(1)} s, new master ${after.port} (epoch ${after.epoch}); ${before.port} restarted as its replica`;
}

export async function injectFault(ctx: FaultContext, n: number, kind: FaultKind): Promise<Fault> {
  const turn = ctx.turns.get(kind) ?? 0;
  ctx.turns.set(kind, turn + 1);
  const { stack } = ctx;
  const realNames = [...stack.real.keys()];
  const cursor = await lastEventId(stack.db);
  const fault: Fault = { n, kind, at: (Date.now() - ctx.t0) / 1000, target: '', cursor, detail: '' };
  try {
    switch (kind) {
      case 'master-sigkill': {
        fault.target = fault.expectFailover = realNames[turn % realNames.length]!;
        fault.detail = await killMaster(ctx, fault.target, cursor);
        break;
      }
      case 'switchover': {
        fault.target = fault.expectFailover = realNames[(turn + 1) % realNames.length]!;
        const before = await currentMaster(stack, fault.target);
        const t = Date.now();
        // Operator actions are answered by the leader only (others answer 503 naming it).
        const leader = stack.bases[Math.max(0, await leaderIndex(stack.bases))]!;
        const record = await api<{ outcome: string; to?: string }>(leader, 'POST', `/api/v1/clusters/${fault.target}/switchover`, {});
        const after = await currentMaster(stack, fault.target);
        fault.detail = `${fault.target}: switchover ${record.outcome} in ${Date.now() - t} ms, master ${before.port} → ${after.port}`;
        if (record.outcome !== 'succeeded') fault.error = `switchover ${record.outcome}`;
        break;
      }
      case 'agent-sigkill': {
        const agent = stack.agents[turn % 2]!;
        fault.target = agent.name;
        fault.detail = await restartAgent(agent, 'SIGKILL');
        break;
      }
      case 'leader-sigterm':
      case 'leader-sigkill': {
        const r = await restartLeader(stack, kind === 'leader-sigterm' ? 'SIGTERM' : 'SIGKILL');
        fault.target = r.target;
        fault.detail = r.detail;
        break;
      }
      case 'pg-connection-churn': {
        fault.target = 'every vigil connection';
        const { rows } = await stack.db.query<{ app: string }>(
          `SELECT application_name AS app, pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid()`,
        );
        const byApp = rows.reduce<Record<string, number>>((m, r) => ((m[r.app] = (m[r.app] ?? 0) + 1), m), {});
        const t = Date.now();
        await Promise.all(stack.bases.map((_, i) => waitReady(stack, i)));
        fault.detail = `terminated ${rows.length} backends (${Object.entries(byApp)
          .map(([a, k]) => `${a || 'unnamed'} ${k}`)
          .join(', ')}); both controllers ready ${((Date.now() - t) / 1000).toFixed(1)} s later`;
        break;
      }
    }
  } catch (err) {
    fault.error = err instanceof Error ? err.message : String(err);
  }
  ctx.log(`fault ${n} at ${fault.at.toFixed(0)} s: ${kind} → ${fault.detail || fault.target}${fault.error ? ` — ERROR ${fault.error}` : ''}`);
  return fault;
}
