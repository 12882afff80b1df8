import type { FailoverPhase } from './failover.entity.js';
import type { RankedCandidate, Ranking } from './candidate-ranking.js';

/**
 * The failover state machine as a pure function: `(state, observations) → action`. No Nest, no
 * database, no network: the runner (failover-runner.ts) reads the observations the phase needs,
 * asks `plan`, performs the one action under the fencing token and persists the next phase.
 *
 *   decided ──choose──▶ fencing ──fence / skip-fence──▶ promoting ──promote / adopt──▶ recorded
 *      ▲                    │ (switchover: hand-over ─────────────────────────────────▶ recorded)
 *      └──next-candidate────┴──────────────── promoting                               │
 *   decided ──give-up──▶ failed (un-fencing a live old master)          recorded ──repoint──▶ repointing ──finish──▶ done
 *   fencing ──abort (switchover refused by Redis)──▶ aborted
 *
 * Only `promoting` is ever entered before a node is told to become master, and the node chosen is
 * persisted with its run id and offset: a leader that resumes a run in `promoting` adopts the node
 * only if it is master *and* is still the same process with its data (same run id, offset not reset).
 */

export type PlannerTrigger = 'auto' | 'manual' | 'switchover';

export interface PlanTarget {
  id: string;
  host: string;
  port: number;
  runId?: string;
  offset?: number;
}

export interface PlanState {
  phase: FailoverPhase;
  trigger: PlannerTrigger;
  target: PlanTarget | null;
  /** Nodes that failed to promote in this run (never tried twice). */
  failed: readonly string[];
  /** The old master was told to follow a candidate in this run. */
  oldMasterFenced: boolean;
  /** failoverTimeoutMs after the start. */
  deadline: number;
}

export interface Observations {
  now: number;
  /** The candidates as read now (phase `decided`). */
  ranking?: Ranking;
  /** Whether the old master answers now (phase `fencing`, and giving up). */
  oldMaster?: { answers: boolean; role?: string };
  /** The chosen node as read now, when the run was resumed in `promoting`. */
  target?: { answers: false; error: string } | { answers: true; role: string; runId?: string; offset: number };
}

export type Action =
  | { kind: 'choose'; target: RankedCandidate }
  | { kind: 'fence-old-master'; target: PlanTarget }
  | { kind: 'skip-fence'; reason: string }
  | { kind: 'hand-over'; target: PlanTarget }
  | { kind: 'promote'; target: PlanTarget }
  | { kind: 'adopt'; target: PlanTarget }
  | { kind: 'next-candidate'; target: PlanTarget; reason: string }
  | { kind: 'repoint'; master: PlanTarget }
  | { kind: 'finish'; master: PlanTarget }
  | { kind: 'give-up'; reason: string; unfence: boolean }
  | { kind: 'abort'; reason: string }
  | { kind: 'none' };

/** The phase each action leads to (the runner persists it after performing the action). */
export function nextPhase(action: Action): FailoverPhase | undefined {
  switch (action.kind) {
    case 'choose':
      return 'fencing';
    case 'fence-old-master':
    case 'skip-fence':
      return 'promoting';
    case 'hand-over':
    case 'promote':
    case 'adopt':
      return 'recorded';
    case 'next-candidate':
      return 'decided';
    case 'repoint':
      return 'repointing';
    case 'finish':
      return 'done';
    case 'give-up':
      return 'failed';
    case 'abort':
      return 'aborted';
    case 'none':
      return undefined;
  }
}

export function plan(state: PlanState, obs: Observations): Action {
  switch (state.phase) {
    case 'decided':
      return decide(state, obs);
    case 'fencing': {
      const target = need(state);
      if (state.trigger === 'switchover') {
        // The old master itself hands over (FAILOVER TO): it must answer, or nothing can be lossless.
        if (obs.oldMaster && !obs.oldMaster.answers)
          return { kind: 'abort', reason: 'the master does not answer: a switchover needs it (force a failover instead)' };
        return { kind: 'hand-over', target };
      }
      if (obs.oldMaster?.answers) return { kind: 'fence-old-master', target };
      return { kind: 'skip-fence', reason: 'the old master does not answer; it is demoted when it returns' };
    }
    case 'promoting': {
      const target = need(state);
      const seen = obs.target;
      if (!seen) return { kind: 'promote', target };
      if (!seen.answers) return { kind: 'next-candidate', target, reason: `the chosen node does not answer: ${seen.error}` };
      if (target.runId !== undefined && seen.runId !== undefined && seen.runId !== target.runId) {
        return { kind: 'next-candidate', target, reason: `the chosen node restarted (run id ${target.runId} → ${seen.runId}): never adopted` };
      }
      if (target.offset !== undefined && seen.offset < target.offset) {
        return { kind: 'next-candidate', target, reason: `the chosen node's offset went back (${target.offset} → ${seen.offset}): never adopted` };
      }
      return seen.role === 'master' ? { kind: 'adopt', target } : { kind: 'promote', target };
    }
    case 'recorded':
      return { kind: 'repoint', master: need(state) };
    case 'repointing':
      return { kind: 'finish', master: need(state) };
    case 'done':
    case 'failed':
    case 'aborted':
      return { kind: 'none' };
  }
}

function decide(state: PlanState, obs: Observations): Action {
  const unfence = state.oldMasterFenced;
  if (obs.now > state.deadline) return { kind: 'give-up', reason: 'failover timeout reached', unfence };
  const ranking = obs.ranking;
  if (!ranking) throw new Error('planner: phase decided needs the ranking');
  const next = ranking.candidates.find((c) => !state.failed.includes(c.id));
  if (next) return { kind: 'choose', target: next };
  if (state.failed.length > 0) return { kind: 'give-up', reason: `every candidate failed to promote (${state.failed.length} tried)`, unfence };
  const why = ranking.excluded.map((e) => `${e.host}:${e.port} ${e.reason}`).join('; ');
  return { kind: 'give-up', reason: `no replica can be promoted${why ? `: ${why}` : ''}`, unfence };
}

function need(state: PlanState): PlanTarget {
  if (!state.target) throw new Error(`planner: phase ${state.phase} needs a chosen node`);
  return state.target;
}
