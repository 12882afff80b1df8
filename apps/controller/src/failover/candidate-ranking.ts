/**
 * Which replica to promote, as a pure function of what was read from the nodes at decision time.
 *
 * Excluded: nodes that did not answer now, that detection holds down, that are not replicas, with
 * priority 0, and those that hold no data of the failed master — still loading, in the middle of a
 * (first or full) sync, or that never completed a sync with it (link never up) — whose master
 * link has been down longer than the staleness limit (Sentinel's: measured from the master's SDOWN time,
 * `(now − sdownSince) + 10 × downAfterMs`, so time spent waiting in maintenance, cooldown or "cannot
 * decide" never disqualifies every replica), or that lag the best candidate by more than
 * `maxReplicaLagBytes`. The rest are ranked by lowest priority number, then highest replication
 * offset, then node id (stable, so every replica of the controller picks the same).
 *
 * An operator may force a named target that is excluded only for its data (no data, syncing, stale,
 * lagging) with `acceptDataLoss`; nothing forces an unreachable node, a master or priority 0.
 */

export interface CandidateInput {
  id: string;
  host: string;
  port: number;
  priority: number;
  /** Detection's verdict on the node now. */
  detection: 'up' | 'sdown' | 'odown' | 'config-fault' | 'unknown';
  /** What the node said just now (`INFO replication`), or why it could not. */
  probe:
    | {
        ok: true;
        role: 'master' | 'replica';
        offset: number;
        runId?: string;
        linkUp?: boolean;
        /** Seconds since the master link went down (Redis' `master_link_down_since_seconds`; -1: it never came up). */
        linkDownSinceS?: number;
        /** A sync is in progress (`master_sync_in_progress:1`): its data set is incomplete. */
        syncInProgress?: boolean;
        /** Loading its data set from disk or from a sync. */
        loading?: boolean;
      }
    | { ok: false; error: string };
}

export interface RankingPolicy {
  /** A replica whose link has been down longer than this has stale data (ms). */
  maxLinkDownMs: number;
  /** 0 = no limit. */
  maxReplicaLagBytes: number;
}

/** Why a node is not a candidate; the data reasons are the ones an operator may accept. */
export type ExclusionCode = 'unreachable' | 'down' | 'not-replica' | 'priority-0' | 'no-data' | 'syncing' | 'stale' | 'lagging' | 'not-target';
export const DATA_LOSS_CODES: ReadonlySet<ExclusionCode> = new Set(['no-data', 'syncing', 'stale', 'lagging']);

export interface RankedCandidate {
  id: string;
  host: string;
  port: number;
  priority: number;
  offset: number;
  runId?: string;
  /** Promoted although excluded for its data, because an operator accepted the loss. */
  dataLossAccepted?: ExclusionCode;
}

export interface Exclusion {
  id: string;
  host: string;
  port: number;
  code: ExclusionCode;
  reason: string;
}

export interface Ranking {
  candidates: RankedCandidate[];
  excluded: Exclusion[];
}

/** Staleness limit for a master that went SDOWN at `sdownSince` (Sentinel's rule). */
export function maxLinkDownMs(now: number, sdownSince: number | undefined, downAfterMs: number): number {
  return Math.max(0, now - (sdownSince ?? now)) + 10 * downAfterMs;
}

function exclusion(n: CandidateInput, policy: RankingPolicy): { code: ExclusionCode; reason: string } | undefined {
  const p = n.probe;
  if (!p.ok) return { code: 'unreachable', reason: `unreachable: ${p.error}` };
  if (n.detection === 'sdown' || n.detection === 'odown') return { code: 'down', reason: `detection holds it ${n.detection}` };
  if (p.role !== 'replica') return { code: 'not-replica', reason: `not a replica (role ${p.role})` };
  if (n.priority === 0) return { code: 'priority-0', reason: 'priority 0: never promoted' };
  if (p.loading) return { code: 'syncing', reason: 'loading its data set: incomplete' };
  if (p.syncInProgress) return { code: 'syncing', reason: 'sync with the master in progress: incomplete data set' };
  // Redis reports -1 while the link never came up since the node started following its master: it never
  // completed a sync (an offset of 0 says nothing: a replica of a master that took no write has 0 too).
  if (p.linkUp !== true && p.linkDownSinceS === -1) {
    return { code: 'no-data', reason: 'never completed a sync with the master: holds none of its data' };
  }
  if (p.linkUp === false && (p.linkDownSinceS ?? 0) * 1000 > policy.maxLinkDownMs) {
    return { code: 'stale', reason: `master link down for ${p.linkDownSinceS} s (limit ${Math.round(policy.maxLinkDownMs / 1000)} s): data too stale` };
  }
  return undefined;
}

export function rankCandidates(nodes: readonly CandidateInput[], policy: RankingPolicy): Ranking {
  const excluded: Exclusion[] = [];
  const eligible: RankedCandidate[] = [];
  for (const n of nodes) {
    const out = exclusion(n, policy);
    if (out) excluded.push({ id: n.id, host: n.host, port: n.port, ...out });
    else if (n.probe.ok) eligible.push(candidate(n, n.probe.offset, n.probe.runId));
  }
  const best = Math.max(0, ...eligible.map((c) => c.offset));
  const candidates: RankedCandidate[] = [];
  for (const c of eligible) {
    if (policy.maxReplicaLagBytes > 0 && best - c.offset > policy.maxReplicaLagBytes) {
      excluded.push({
        id: c.id,
        host: c.host,
        port: c.port,
        code: 'lagging',
        reason: `${best - c.offset} bytes behind the best replica (limit ${policy.maxReplicaLagBytes})`,
      });
    } else {
      candidates.push(c);
    }
  }
  candidates.sort((a, b) => a.priority - b.priority || b.offset - a.offset || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { candidates, excluded };
}

function candidate(n: CandidateInput, offset: number, runId: string | undefined): RankedCandidate {
  return { id: n.id, host: n.host, port: n.port, priority: n.priority, offset, ...(runId ? { runId } : {}) };
}

const addr = (n: { host: string; port: number }) => `${n.host}:${n.port}`;

/**
 * Only `target` ("host:port") may be promoted: the others are excluded, saying so. With
 * `acceptDataLoss`, a target excluded only for its data becomes the candidate, marked as such.
 */
export function restrictTo(ranking: Ranking, nodes: readonly CandidateInput[], target: string, acceptDataLoss = false): Ranking {
  const keep = ranking.candidates.filter((c) => addr(c) === target);
  const others: Exclusion[] = ranking.candidates
    .filter((c) => addr(c) !== target)
    .map((c) => ({ id: c.id, host: c.host, port: c.port, code: 'not-target', reason: `not the requested target ${target}` }));
  let excluded = [...ranking.excluded, ...others];
  if (keep.length === 0 && acceptDataLoss) {
    const forced = ranking.excluded.find((e) => addr(e) === target && DATA_LOSS_CODES.has(e.code));
    const input = forced && nodes.find((n) => n.id === forced.id);
    if (forced && input?.probe.ok) {
      keep.push({ ...candidate(input, input.probe.offset, input.probe.runId), dataLossAccepted: forced.code });
      excluded = excluded.filter((e) => e !== forced);
    }
  }
  return { candidates: keep, excluded };
}
