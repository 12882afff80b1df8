import type { NodeView } from '../detection/node-view.js';
import { type ClusterHealthLabel, clusterHealthLabel, type ReplicaFact } from './cluster-health-label.js';

/**
 * One cluster's overview line, as a pure function of the topology's record, detection's published node
 * views (`NodeView`: verdict, votes, the agents' freshest reading), the failover engine's decision and the
 * failover history. The label itself is `clusterHealthLabel`'s.
 */

export interface OverviewCluster {
  name: string;
  epoch: number;
  autoFailover: boolean;
  maintenanceUntil: Date | null;
  maxReplicaLagBytes: number;
  nodes: readonly { id: string; host: string; port: number; role: string }[];
}

/** A failover record as the overview shows it. */
export interface FailoverSummary {
  id: string;
  trigger: string;
  outcome: string;
  state: string;
  from: string | null;
  to: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

export interface OverviewInput {
  now: number;
  cluster: OverviewCluster;
  view: (nodeId: string) => NodeView;
  cannotDecideReason: string | null;
  /** The failover engine's latest automatic decision (the leader's; null on a standby or while the master is up). */
  decision: { at: string; outcome: string; code?: string; reason?: string } | null;
  running: FailoverSummary | null;
  lastFinished: FailoverSummary | null;
  /** The reason given when the current maintenance started, if known. */
  maintenanceReason: string | null;
}

export interface OverviewItem {
  name: string;
  health: ClusterHealthLabel;
  reasons: string[];
  master: string | null;
  epoch: number;
  replicasUp: number;
  replicasTotal: number;
  worstLagBytes: number | null;
  worstLagS: number | null;
  unreachableFromZones: string[];
  autoFailover: boolean;
  maintenanceUntil: string | null;
  failoverInProgress: { id: string; state: string; startedAt: string } | null;
  lastFailover: { id: string; at: string; trigger: string; outcome: string; from: string | null; to: string | null } | null;
  lastRefusal: { at: string; code: string; reason: string } | null;
}

const addr = (n: { host: string; port: number }) => `${n.host}:${n.port}`;

/** Why a replica does not count as up and linked to the recorded master, from its view (null: it does). */
export function replicaProblem(view: NodeView, master: { host: string; port: number } | undefined): string | null {
  switch (view.state) {
    case 'sdown':
    case 'odown':
      return `down (${view.state}: ${view.sdownVotes} of ${view.voters} voting agents see it down)`;
    case 'config-fault':
      return 'refuses our credentials';
    case 'unknown':
      return 'no agent reports on it';
  }
  const r = view.repl;
  if (!r) return 'no replication reading from the agents yet';
  if (r.role !== 'replica') return `reports role ${r.role}`;
  if (r.linkUp !== true) return 'master link down';
  if (master && `${r.masterHost ?? ''}:${r.masterPort ?? ''}`.toLowerCase() !== addr(master).toLowerCase()) {
    return `follows ${r.masterHost ?? '?'}:${r.masterPort ?? '?'}, not the recorded master`;
  }
  return null;
}

/** Zones all of whose voting agents see the node down, while agents of some other zone reach it. */
export function unreachableZones(view: NodeView): string[] {
  const zones = new Map<string, boolean>();
  for (const v of view.votes) zones.set(v.zone, (zones.get(v.zone) ?? true) && v.sdown);
  const cut = [...zones].filter(([, allDown]) => allDown).map(([zone]) => zone);
  return cut.length < zones.size ? cut.sort() : [];
}

export function clusterOverview(input: OverviewInput): OverviewItem {
  const { cluster, now } = input;
  const masterNode = cluster.nodes.find((n) => n.role === 'master');
  const masterView = masterNode ? input.view(masterNode.id) : undefined;
  const masterOffset = masterView?.repl?.role === 'master' ? masterView.repl.offset : null;
  // Every other node counts as a replica (one whose role is not known yet included: it is not up as one).
  const replicas: ReplicaFact[] = [];
  let worstLagBytes: number | null = null;
  let worstLagS: number | null = null;
  for (const n of cluster.nodes) {
    if (n === masterNode) continue;
    const view = input.view(n.id);
    const r = view.repl?.role === 'replica' ? view.repl : null;
    // Readings are taken apart in time (INFO about once a second): a lag that comes out negative is 0.
    const lagBytes = r && masterOffset !== null ? Math.max(0, masterOffset - r.offset) : null;
    if (lagBytes !== null) worstLagBytes = Math.max(worstLagBytes ?? 0, lagBytes);
    if (r?.lastIoS !== undefined && r.lastIoS >= 0) worstLagS = Math.max(worstLagS ?? 0, r.lastIoS);
    const why = replicaProblem(view, masterNode);
    replicas.push({ address: addr(n), up: why === null, why, lagBytes });
  }
  const maintenanceUntil = cluster.maintenanceUntil && cluster.maintenanceUntil.getTime() > now ? cluster.maintenanceUntil : null;
  const unreachableFromZones = masterView ? unreachableZones(masterView) : [];
  const refusal = input.decision?.outcome === 'refused' ? input.decision : null;
  const verdict = clusterHealthLabel({
    now,
    failoverInProgress: input.running
      ? { id: input.running.id, trigger: input.running.trigger, state: input.running.state, startedAt: input.running.startedAt.getTime() }
      : null,
    master:
      masterNode && masterView
        ? { address: addr(masterNode), state: masterView.state, assigned: masterView.assigned, voters: masterView.voters, sdownVotes: masterView.sdownVotes }
        : null,
    unreachableFromZones,
    lastRefusal: refusal ? { code: refusal.code ?? 'refused', reason: refusal.reason ?? '' } : null,
    cannotDecideReason: input.cannotDecideReason,
    maintenance: maintenanceUntil ? { until: maintenanceUntil.getTime(), reason: input.maintenanceReason } : null,
    replicas,
    maxReplicaLagBytes: cluster.maxReplicaLagBytes,
  });
  const last = input.lastFinished;
  return {
    name: cluster.name,
    health: verdict.health,
    reasons: verdict.reasons,
    master: masterNode ? addr(masterNode) : null,
    epoch: cluster.epoch,
    replicasUp: replicas.filter((r) => r.up).length,
    replicasTotal: replicas.length,
    worstLagBytes,
    worstLagS,
    unreachableFromZones,
    autoFailover: cluster.autoFailover,
    maintenanceUntil: maintenanceUntil?.toISOString() ?? null,
    failoverInProgress: input.running ? { id: input.running.id, state: input.running.state, startedAt: input.running.startedAt.toISOString() } : null,
    lastFailover: last
      ? { id: last.id, at: (last.finishedAt ?? last.startedAt).toISOString(), trigger: last.trigger, outcome: last.outcome, from: last.from, to: last.to }
      : null,
    lastRefusal: refusal ? { at: refusal.at, code: refusal.code ?? 'refused', reason: refusal.reason ?? '' } : null,
  };
}
