import { api } from '../bench/admin-api.js';
import { metric } from '../bench/metrics.js';
import { eventCounts, eventTypeCounts } from './events.js';
import type { Fault } from './faults.js';
import { controllerReady, type SoakStack } from './stack.js';

/** What a fault's window showed, judged at its end (just before the next fault). */
export interface Outcome {
  ok: boolean;
  /** `failover.started` per cluster in the window. */
  failovers: Record<string, number>;
  /** `node.odown` events on farm clusters in the window (none is killed: each one is false). */
  farmOdowns: number;
  /** Events written in the window, by type. */
  events: Record<string, number>;
  /** Problems found: unexpected or missing failovers, a process down, a cluster not converged. */
  problems: string[];
}

/** Counts `failover.started` per cluster since the fault and checks the whole system converged again. */
export async function judgeFault(stack: SoakStack, fault: Fault, untilId: number): Promise<Outcome> {
  const counts = await eventCounts(stack.db, fault.cursor, ['failover.started', 'node.odown'], untilId);
  const failovers: Record<string, number> = {};
  let farmOdowns = 0;
  for (const [cluster, byType] of counts) {
    const started = byType.get('failover.started') ?? 0;
    if (started > 0) failovers[cluster] = started;
    if (cluster.startsWith('farm-')) farmOdowns += byType.get('node.odown') ?? 0;
  }
  const problems: string[] = [];
  if (fault.error) problems.push(`injection: ${fault.error}`);
  for (const [cluster, n] of Object.entries(failovers)) {
    if (cluster !== fault.expectFailover) problems.push(`unexpected failover of ${cluster} (${n})`);
    else if (n !== 1) problems.push(`${cluster} failed over ${n} times (expected once)`);
  }
  if (fault.expectFailover && !failovers[fault.expectFailover]) problems.push(`no failover of ${fault.expectFailover}`);
  if (farmOdowns > 0) problems.push(`${farmOdowns} false ODOWN(s) on farm clusters`);
  problems.push(...(await convergenceProblems(stack)));
  const events = await eventTypeCounts(stack.db, fault.cursor, untilId);
  return { ok: problems.length === 0, failovers, farmOdowns, events, problems };
}

/** Every process running, both controllers ready with every node up, each real cluster's master agreed and really master. */
export async function convergenceProblems(stack: SoakStack): Promise<string[]> {
  const problems: string[] = [];
  for (const s of [...stack.controllers, ...stack.agents]) if (!s.running) problems.push(`${s.name} not running`);
  const nodes = (stack.farmGroups.length + stack.real.size) * 3;
  for (const [i, base] of stack.bases.entries()) {
    const name = stack.controllers[i]!.name;
    if (!(await controllerReady(base))) {
      problems.push(`${name} not ready`);
      continue;
    }
    const up = await metric(base, 'vigil_detection_nodes', { state: 'up' }).catch(() => undefined);
    if (up !== nodes) problems.push(`${name}: ${up ?? '?'} of ${nodes} nodes up`);
  }
  for (const [cluster, group] of stack.real) {
    const answers = await Promise.all(
      stack.bases.map((b) => api<{ port: number; epoch: number }>(b, 'GET', `/api/v1/clusters/${cluster}/master`).catch(() => undefined)),
    );
    const ports = new Set(answers.map((a) => a?.port));
    if (ports.size !== 1 || answers[0] === undefined) {
      problems.push(`${cluster}: controllers answer masters ${[...ports].join(' / ')}`);
      continue;
    }
    const role = (await group
      .get(answers[0].port)
      ?.role()
      .catch(() => undefined)) as unknown[] | undefined;
    if (role?.[0] !== 'master') problems.push(`${cluster}: published master ${answers[0].port} reports ${String(role?.[0] ?? 'nothing')}`);
  }
  return problems;
}
