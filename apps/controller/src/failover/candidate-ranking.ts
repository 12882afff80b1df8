/**
 * Which replica to promote, as a pure function of what was read from the nodes at decision time.
 *
 * Excluded: nodes that did not answer now, that detection holds down, that are not replicas, with
 * priority 0, in the middle of a full resync (restarted empty), whose master link has been down longer than the staleness limit, or that lag the best
 * candidate by more than `maxReplicaLagBytes`. The rest are ranked by lowest priority number, then
 * highest replication offset, then node id (stable, so every replica of the controller picks the same).
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
        linkUp?: boolean;
        /** Seconds since the master link went down (Redis' `master_link_down_since_seconds`). */
        linkDownSinceS?: number;
        /** A full resync is in progress (`master_sync_in_progress:1`): its data set is incomplete. */
        syncInProgress?: boolean;
      }
    | { ok: false; error: string };
}

export interface RankingPolicy {
  /** A replica whose link has been down longer than this has stale data (ms). */
  maxLinkDownMs: number;
  /** 0 = no limit. */
  maxReplicaLagBytes: number;
}

export interface RankedCandidate {
  id: string;
  host: string;
  port: number;
  priority: number;
  offset: number;
}

export interface Exclusion {
  id: string;
  host: string;
  port: number;
  reason: string;
}

export interface Ranking {
  candidates: RankedCandidate[];
  excluded: Exclusion[];
}

export function rankCandidates(nodes: readonly CandidateInput[], policy: RankingPolicy): Ranking {
  const excluded: Exclusion[] = [];
  const eligible: RankedCandidate[] = [];
  const exclude = (n: CandidateInput, reason: string) => excluded.push({ id: n.id, host: n.host, port: n.port, reason });
  for (const n of nodes) {
    if (!n.probe.ok) {
      exclude(n, `unreachable: ${n.probe.error}`);
    } else if (n.detection === 'sdown' || n.detection === 'odown') {
      exclude(n, `detection holds it ${n.detection}`);
    } else if (n.probe.role !== 'replica') {
      exclude(n, `not a replica (role ${n.probe.role})`);
    } else if (n.priority === 0) {
      exclude(n, 'priority 0: never promoted');
    } else if (n.probe.syncInProgress) {
      exclude(n, 'full resynchronisation in progress: incomplete data set');
    } else if (n.probe.linkUp === false && (n.probe.linkDownSinceS ?? 0) * 1000 > policy.maxLinkDownMs) {
      exclude(n, `master link down for ${n.probe.linkDownSinceS} s (limit ${Math.round(policy.maxLinkDownMs / 1000)} s): data too stale`);
    } else {
      eligible.push({ id: n.id, host: n.host, port: n.port, priority: n.priority, offset: n.probe.offset });
    }
  }
  const best = Math.max(0, ...eligible.map((c) => c.offset));
  const candidates: RankedCandidate[] = [];
  for (const c of eligible) {
    if (policy.maxReplicaLagBytes > 0 && best - c.offset > policy.maxReplicaLagBytes) {
      excluded.push({ id: c.id, host: c.host, port: c.port, reason: `${best - c.offset} bytes behind the best replica (limit ${policy.maxReplicaLagBytes})` });
    } else {
      candidates.push(c);
    }
  }
  candidates.sort((a, b) => a.priority - b.priority || b.offset - a.offset || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { candidates, excluded };
}
