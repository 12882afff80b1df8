import type { NodeState } from '../detection/quorum.js';

/**
 * One label per cluster for the overview, as a pure function of facts the controller holds in memory,
 * with the human sentences behind it. The first label that applies wins:
 *
 * failing-over > master-down > cannot-decide > master-unreachable > maintenance > degraded > ok
 *
 * `reasons` lists every condition that holds, the label's own first (a cluster in maintenance with a
 * replica down says both).
 */

export const CLUSTER_HEALTH_LABELS = ['ok', 'degraded', 'failing-over', 'master-down', 'cannot-decide', 'maintenance', 'master-unreachable'] as const;
export type ClusterHealthLabel = (typeof CLUSTER_HEALTH_LABELS)[number];

export interface ReplicaFact {
  address: string;
  /** Up, and linked to the recorded master per the agents' latest reading. */
  up: boolean;
  /** Why it is not up (null when it is). */
  why: string | null;
  /** The master's offset minus this replica's, from the latest readings (null when unknown). */
  lagBytes: number | null;
}

export interface ClusterHealthFacts {
  now: number;
  /** A failover or switchover record not yet finished. */
  failoverInProgress: { id: string; trigger: string; state: string; startedAt: number } | null;
  /** The recorded master as detection sees it now (null: none recorded). */
  master: { address: string; state: NodeState; assigned: number; voters: number; sdownVotes: number } | null;
  /** Zones whose voting agents all see the master down while agents elsewhere reach it. */
  unreachableFromZones: string[];
  /** The automatic decision's current refusal while the master is down (leader only). */
  lastRefusal: { code: string; reason: string } | null;
  /** Detection cannot decide for the cluster, and why (null when it can). */
  cannotDecideReason: string | null;
  maintenance: { until: number; reason: string | null } | null;
  replicas: ReplicaFact[];
  /** 0 = no limit. */
  maxReplicaLagBytes: number;
}

export interface ClusterHealthVerdict {
  health: ClusterHealthLabel;
  reasons: string[];
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function clusterHealthLabel(f: ClusterHealthFacts): ClusterHealthVerdict {
  const found: { label: ClusterHealthLabel; reasons: string[] }[] = [];
  const m = f.master;

  if (f.failoverInProgress) {
    const r = f.failoverInProgress;
    found.push({
      label: 'failing-over',
      reasons: [
        `${r.trigger === 'switchover' ? 'switchover' : `${r.trigger} failover`} ${r.id} running since ${new Date(r.startedAt).toISOString()}: phase ${r.state}`,
      ],
    });
  }

  const majorityDown = m !== null && m.assigned > 0 && m.sdownVotes * 2 > m.assigned;
  if (m && (m.state === 'odown' || majorityDown) && !f.failoverInProgress) {
    const how = m.state === 'odown' ? 'objectively down' : 'down for a majority of its agents';
    const reasons = [`master ${m.address} is ${how} (${m.sdownVotes} of ${plural(m.assigned, 'assigned agent')} see it down)`];
    if (f.lastRefusal) reasons.push(`automatic failover refused (${f.lastRefusal.code}): ${f.lastRefusal.reason}`);
    found.push({ label: 'master-down', reasons });
  }

  if (f.cannotDecideReason !== null) found.push({ label: 'cannot-decide', reasons: [`cannot decide: ${f.cannotDecideReason}`] });

  if (m && m.sdownVotes > 0 && m.state !== 'odown' && !majorityDown) {
    const where =
      f.unreachableFromZones.length > 0 ? ` from ${f.unreachableFromZones.length === 1 ? 'zone' : 'zones'} ${f.unreachableFromZones.join(', ')}` : '';
    found.push({ label: 'master-unreachable', reasons: [`master ${m.address} unreachable${where} (${m.sdownVotes} of ${plural(m.voters, 'voting agent')})`] });
  }

  if (f.maintenance && f.maintenance.until > f.now) {
    const until = new Date(f.maintenance.until).toISOString();
    found.push({
      label: 'maintenance',
      reasons: [f.maintenance.reason ? `maintenance until ${until}: ${f.maintenance.reason}` : `maintenance until ${until}`],
    });
  }

  const degraded: string[] = [];
  if (!m) degraded.push('no master recorded');
  // The agents cannot vouch for a master they cannot read (refused credentials, not yet probed).
  else if (m.state === 'config-fault') degraded.push(`master ${m.address}: the agents cannot use it (configuration fault, e.g. refused credentials)`);
  else if (m.state === 'unknown') degraded.push(`master ${m.address}: no agent has reported on it yet`);
  const up = f.replicas.filter((r) => r.up).length;
  if (up < f.replicas.length) {
    degraded.push(`${up} of ${plural(f.replicas.length, 'replica')} up`);
    for (const r of f.replicas) if (!r.up) degraded.push(`${r.address}: ${r.why ?? 'not up'}`);
  }
  if (f.maxReplicaLagBytes > 0) {
    for (const r of f.replicas) {
      if (r.lagBytes !== null && r.lagBytes > f.maxReplicaLagBytes)
        degraded.push(`${r.address} lags ${r.lagBytes} bytes behind the master (limit ${f.maxReplicaLagBytes})`);
    }
  }
  if (degraded.length > 0) found.push({ label: 'degraded', reasons: degraded });

  if (found.length === 0) {
    return { health: 'ok', reasons: [f.replicas.length === 0 ? 'master up, no replicas' : `master up, ${up} of ${plural(f.replicas.length, 'replica')} up`] };
  }
  return { health: found[0]!.label, reasons: found.flatMap((x) => x.reasons) };
}
