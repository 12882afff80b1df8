import { odownNeeds } from '../detection/quorum.js';
import type { NodeView } from '../detection/node-view.js';
import { type CandidateInput, maxLinkDownMs, rankCandidates } from './candidate-ranking.js';
import { type AutoFailoverContext, autoFailoverChecks, type RefusalCode } from './failover-policy.js';

/**
 * "Would an automatic failover start now?", as a pure function of what this controller holds in memory
 * (detection's views, the policy's inputs, leadership) — nothing is probed. It runs the same guards the
 * failover triggers run (`autoFailoverChecks`, `rankCandidates`), but every one of them, and with the
 * agents' latest readings in place of the leader's own probe of the nodes. Passing every check still
 * leaves the step only the leader takes when it acts: its own read of the master's evidence
 * (`master-alive`) and of the candidates.
 */

export interface DecisionCheck {
  name: string;
  passed: boolean;
  detail: string;
}

export interface DecisionNow {
  wouldFailOver: boolean;
  reason: string;
  checks: DecisionCheck[];
}

/** A node as the topology records it and detection sees it now. */
export interface ViewedNode {
  id: string;
  host: string;
  port: number;
  priority: number;
  view: NodeView;
}

export interface DecisionNowInput {
  now: number;
  cluster: { quorum: number; downAfterMs: number; maxReplicaLagBytes: number };
  /** The recorded master (null when none is recorded). */
  master: ViewedNode | null;
  /** Every other node of the cluster. */
  others: ViewedNode[];
  /** The policy's inputs, or why they could not be read (the failover history lives in PostgreSQL). */
  policy: AutoFailoverContext | { unavailable: string };
  leader: boolean;
}

/** The check each policy guard is shown as. */
const POLICY_CHECK_NAMES: Record<Exclude<RefusalCode, 'master-alive' | 'no-safe-candidate'>, string> = {
  running: 'no-failover-running',
  auto_failover_off: 'auto-failover',
  maintenance: 'maintenance',
  cooldown: 'cooldown',
  backoff: 'backoff',
  cannot_decide: 'can-decide',
};

const addr = (n: { host: string; port: number }) => `${n.host}:${n.port}`;

/**
 * What the ranking reads of a node, from the agents' freshest `INFO replication` reading instead of a
 * probe. A link down when read has been down longer since (its age is added); a sync in progress or a
 * node loading is not in the agents' readings, so those exclusions are left to the leader's own read.
 */
export function candidateFromReading(node: ViewedNode, now: number): CandidateInput {
  const r = node.view.repl;
  const base = { id: node.id, host: node.host, port: node.port, priority: node.priority, detection: node.view.state };
  if (!r) return { ...base, probe: { ok: false, error: 'no INFO reading from the agents yet' } };
  const agedS = Math.max(0, Math.floor((now - r.readAt) / 1000));
  const linkDownSinceS = r.linkUp === false && r.linkDownSinceS !== undefined && r.linkDownSinceS >= 0 ? r.linkDownSinceS + agedS : r.linkDownSinceS;
  return {
    ...base,
    probe: {
      ok: true,
      role: r.role,
      offset: r.offset,
      ...(r.runId ? { runId: r.runId } : {}),
      ...(r.linkUp !== undefined ? { linkUp: r.linkUp } : {}),
      ...(linkDownSinceS !== undefined ? { linkDownSinceS } : {}),
    },
  };
}

function masterCheck(input: DecisionNowInput): DecisionCheck {
  const m = input.master;
  if (!m) return { name: 'master-odown', passed: false, detail: 'no master is recorded' };
  const v = m.view;
  const needed = odownNeeds(input.cluster.quorum, v.assigned);
  const votes = `${v.sdownVotes} of ${v.assigned} assigned agents see it down (${v.voters} voting); ODOWN needs ${needed} (quorum ${input.cluster.quorum} and a strict majority of ${v.assigned})`;
  return {
    name: 'master-odown',
    passed: v.state === 'odown',
    detail: v.state === 'odown' ? `the master ${addr(m)} is objectively down: ${votes}` : `the master ${addr(m)} is ${v.state}: ${votes}`,
  };
}

function candidateCheck(input: DecisionNowInput): DecisionCheck {
  const m = input.master;
  // The staleness limit runs from the master's fault, as the triggers measure it (ODOWN since − down-after).
  const faultSince =
    m && (m.view.state === 'odown' || m.view.state === 'sdown') && m.view.since !== null ? m.view.since - input.cluster.downAfterMs : undefined;
  const ranking = rankCandidates(
    input.others.map((n) => candidateFromReading(n, input.now)),
    { maxLinkDownMs: maxLinkDownMs(input.now, faultSince, input.cluster.downAfterMs), maxReplicaLagBytes: input.cluster.maxReplicaLagBytes },
  );
  const best = ranking.candidates[0];
  if (best) {
    return {
      name: 'safe-candidate',
      passed: true,
      detail: `per the agents' latest readings, ${addr(best)} would be promoted (offset ${best.offset}, priority ${best.priority}); ${ranking.candidates.length} eligible, ${ranking.excluded.length} excluded`,
    };
  }
  const reasons = ranking.excluded.map((e) => `${addr(e)}: ${e.reason}`).join('; ');
  return { name: 'safe-candidate', passed: false, detail: `no replica can be promoted safely per the agents' latest readings (${reasons || 'no replicas'})` };
}

export function decisionNow(input: DecisionNowInput): DecisionNow {
  const checks: DecisionCheck[] = [
    masterCheck(input),
    ...('unavailable' in input.policy
      ? [{ name: 'failover-history', passed: false, detail: input.policy.unavailable }]
      : autoFailoverChecks(input.policy).map((c) => ({
          name: POLICY_CHECK_NAMES[c.code as keyof typeof POLICY_CHECK_NAMES] ?? c.code,
          passed: c.passed,
          detail: c.reason,
        }))),
    // Not a guard: the question is whether Vigil would act, and on a standby the leader would.
    {
      name: 'leader',
      passed: true,
      detail: input.leader
        ? 'this controller leads: it is the one that would act'
        : "this controller is a standby: the leader would act (GET /leadership); this answer is from this replica's own views",
    },
    candidateCheck(input),
  ];
  const failed = checks.find((c) => !c.passed);
  return {
    wouldFailOver: failed === undefined,
    reason: failed
      ? failed.detail
      : "every guard passes: the leader would now read the master's own evidence (refusing if it is still alive) and its candidates, then fail over",
    checks,
  };
}
