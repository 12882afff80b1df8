import type { NodeObservation, ProbeStatus, ReplicationObservation } from '../../../../libs/contracts/src/index.js';
import { decide, type DecisionCapacity, decisionCapacity, NODE_STATES, type NodeState, odownNeeds } from './quorum.js';

// The quorum rule lives in quorum.ts; re-exported for the engine's existing importers.
export { decide, type DecisionCapacity, decisionCapacity, NODE_STATES, type NodeState, odownNeeds };

/**
 * Failure detection as a pure state machine: reports and the clock in, transitions out. No Nest, no
 * database, no network; the detection service wires it to ingestion, events and metrics.
 *
 * - SDOWN (one agent): no valid reply from the node for `downAfterMs`, measured from the agent's own
 *   last valid reply (reports carry relative ages, so clocks need not agree).
 * - ODOWN: at least `quorum` agents see SDOWN **and** they are a strict majority of the agents
 *   *assigned* to the cluster: every registered agent that watches it, reporting or not (plus any agent
 *   reporting on it that the registry does not list yet). A silent, stale or stalled agent is a vote
 *   that the node is not down; it never shrinks the denominator, so a controller hearing only a
 *   minority of its agents cannot decide ODOWN (Sentinel's rule: a majority of all known sentinels).
 * - A cluster whose usable agents (healthy, not stalled) cannot reach both numbers `cannot decide`.
 * - `config-fault`: agents reach the node but it refuses our credentials; never counted as down.
 */

export interface DetectionNode {
  id: string;
  clusterId: string;
  host: string;
  port: number;
}

export interface DetectionCluster {
  id: string;
  name: string;
  quorum: number;
  downAfterMs: number;
  nodes: DetectionNode[];
}

export interface DetectionTopology {
  clustersById: ReadonlyMap<string, DetectionCluster>;
  nodesById: ReadonlyMap<string, DetectionNode>;
  /** Cluster id → ids of the registered agents that watch it, whether they report or not. */
  assignedAgents: ReadonlyMap<string, ReadonlySet<string>>;
}

export interface DetectionSettings {
  /** No report for this long: the agent is stale (event; it no longer counts as watching). */
  staleAfterMs: number;
  /** A vote counts only while the agent's last report is younger than max(this many intervals, minVoteWindowMs). */
  voteWindowIntervals: number;
  minVoteWindowMs: number;
  /** After start, agent-health conclusions wait this long for agents to report in. */
  startupGraceMs: number;
}

export const DEFAULT_DETECTION_SETTINGS: DetectionSettings = {
  staleAfterMs: 3000,
  voteWindowIntervals: 3,
  minVoteWindowMs: 1000,
  startupGraceMs: 3000,
};

/** One agent's latest view of one node, on the controller's clock. */
export interface AgentView {
  st: ProbeStatus;
  /** When the agent last had a valid reply (controller clock: receive time minus reported age). */
  okAt: number;
  latencyMs?: number;
  err?: string;
  /** Receive time of the report that carried this view. */
  reportedAt: number;
  /**
   * The agent was already waiting on the node longer than a healthy node takes (a failed probe, or a
   * PING outstanding past an interval, as with a hung node): the view keeps aging between reports.
   */
  failing: boolean;
  repl?: ReplicationObservation & { readAt: number };
}

export interface AgentTrack {
  id: string;
  name: string;
  zone: string;
  intervalMs: number;
  /** How late the agent's own probe ticks ran lately (from its report). */
  lagMs: number;
  lastReportAt: number;
  reports: number;
  stale: boolean;
  views: Map<string, AgentView>;
  /** Clusters with at least one node in the agent's latest report. */
  clusters: Set<string>;
}

export interface NodeTrack {
  state: NodeState;
  since: number;
}

/** One agent's vote on a node at the moment of a transition. */
export interface Vote {
  agent: string;
  zone: string;
  sdown: boolean;
  st: ProbeStatus;
  /** Milliseconds since the agent's last valid reply. */
  noReplyMs: number;
  /** How late the agent's own probe ticks ran lately. */
  lagMs: number;
  err?: string;
}

export interface ReplicaEvidence {
  host: string;
  port: number;
  role?: string;
  masterHost?: string;
  masterPort?: number;
  linkUp?: boolean;
  linkDownSinceS?: number;
  seenBy?: string;
  ageMs?: number;
}

export type DetectionTransition =
  | {
      kind: 'node';
      node: DetectionNode;
      cluster: DetectionCluster;
      from: NodeState;
      to: NodeState;
      at: number;
      votes: Vote[];
      voters: number;
      sdownVotes: number;
      /** Agents assigned to the cluster: ODOWN needs a strict majority of them (and quorum). */
      assigned: number;
      /** For ODOWN: when the deciding vote's down-after expired, when the first vote's fault began. */
      quorumReachedAt?: number;
      faultSince?: number;
      replicas?: ReplicaEvidence[];
    }
  | { kind: 'agent'; agent: AgentTrack; stale: boolean; at: number; silentMs: number }
  | ({ kind: 'cluster'; cluster: DetectionCluster; healthyAgents: number; at: number } & DecisionCapacity);

export interface NodeVerdict {
  state: NodeState;
  /** The denominator: agents assigned to the cluster, voting or not. */
  assigned: number;
  voters: number;
  sdownVotes: number;
  faultVotes: number;
  votes: Vote[];
}

export class DetectionEngine {
  readonly agents = new Map<string, AgentTrack>();
  readonly nodes = new Map<string, NodeTrack>();
  private readonly decidable = new Map<string, boolean>();
  private readonly clusterSeenAt = new Map<string, number>();
  /** Cluster id → assigned agents (registered ∪ healthy reporting); cleared whenever either side changes. */
  private readonly assignedCount = new Map<string, number>();
  private topology: DetectionTopology = { clustersById: new Map(), nodesById: new Map(), assignedAgents: new Map() };

  constructor(
    private readonly settings: DetectionSettings,
    private readonly startedAt: number,
  ) {}

  /**
   * A new topology. With `change` (the clusters a partial reload replaced, and whether the agents
   * changed), only what those clusters held is looked at: a write costs the same at any size.
   */
  setTopology(topology: DetectionTopology, change?: { ids: ReadonlySet<string>; agents: boolean; previous: DetectionTopology }): void {
    this.topology = topology;
    if (change) {
      if (change.agents) this.assignedCount.clear();
      for (const id of change.ids) {
        if (!change.agents) this.assignedCount.delete(id);
        for (const n of change.previous.clustersById.get(id)?.nodes ?? []) {
          if (topology.nodesById.has(n.id)) continue;
          this.nodes.delete(n.id);
          for (const agent of this.agents.values()) agent.views.delete(n.id);
        }
        if (!topology.clustersById.has(id)) {
          this.decidable.delete(id);
          this.clusterSeenAt.delete(id);
        }
      }
      return;
    }
    this.assignedCount.clear();
    for (const id of this.nodes.keys()) if (!topology.nodesById.has(id)) this.nodes.delete(id);
    for (const id of this.decidable.keys()) if (!topology.clustersById.has(id)) this.decidable.delete(id);
    for (const id of this.clusterSeenAt.keys()) if (!topology.clustersById.has(id)) this.clusterSeenAt.delete(id);
    for (const agent of this.agents.values()) for (const id of agent.views.keys()) if (!topology.nodesById.has(id)) agent.views.delete(id);
  }

  forgetAgent(id: string): void {
    this.agents.delete(id);
    this.assignedCount.clear();
  }

  /** The node ids of a report that this topology does not know (the report must then be refused whole). */
  unknownNodes(observations: readonly NodeObservation[]): number[] {
    const unknown: number[] = [];
    observations.forEach((o, i) => {
      if (!this.topology.nodesById.has(o.id)) unknown.push(i);
    });
    return unknown;
  }

  /**
   * Applies one validated report (all node ids known) and re-evaluates the nodes it covers: detection
   * happens on arrival, so ODOWN follows the quorum's down-after expiry by at most one report interval.
   */
  ingest(
    agent: { id: string; name: string; zone: string },
    report: { intervalMs: number; lagMs?: number; nodes: readonly NodeObservation[] },
    now: number,
  ): DetectionTransition[] {
    let track = this.agents.get(agent.id);
    if (!track) {
      track = { ...agent, intervalMs: report.intervalMs, lagMs: 0, lastReportAt: now, reports: 0, stale: false, views: new Map(), clusters: new Set() };
      this.agents.set(agent.id, track);
    }
    const clustersBefore = track.clusters;
    const out: DetectionTransition[] = [];
    track.name = agent.name;
    track.zone = agent.zone;
    track.intervalMs = report.intervalMs;
    track.lagMs = report.lagMs ?? 0;
    track.lastReportAt = now;
    track.reports++;
    if (track.stale) {
      track.stale = false;
      this.assignedCount.clear();
      out.push({ kind: 'agent', agent: track, stale: false, at: now, silentMs: 0 });
    }
    track.clusters = new Set();
    for (const o of report.nodes) {
      const node = this.topology.nodesById.get(o.id);
      if (!node) continue;
      track.clusters.add(node.clusterId);
      const previous = track.views.get(o.id);
      const view: AgentView = { st: o.st, okAt: now - o.ago, reportedAt: now, failing: o.st === 'down' || o.ago > report.intervalMs * 1.2 + 50 };
      if (o.lat !== undefined) view.latencyMs = o.lat;
      if (o.err !== undefined) view.err = o.err;
      if (o.repl) view.repl = { ...o.repl, readAt: now - o.repl.ageMs };
      else if (previous?.repl) view.repl = previous.repl;
      track.views.set(o.id, view);
    }
    if (track.clusters.size !== clustersBefore.size || [...track.clusters].some((c) => !clustersBefore.has(c))) this.assignedCount.clear();
    for (const o of report.nodes) {
      const t = this.evaluateNode(o.id, now);
      if (t) out.push(t);
    }
    return out;
  }

  /** The periodic pass: agents going stale, clusters losing or regaining the agents to decide, and nodes whose voters changed. */
  tick(now: number): DetectionTransition[] {
    const out: DetectionTransition[] = [];
    let agentsChanged = false;
    for (const agent of this.agents.values()) {
      const silentMs = now - agent.lastReportAt;
      const stale = silentMs > this.settings.staleAfterMs;
      if (stale !== agent.stale) {
        agent.stale = stale;
        agentsChanged = true;
        this.assignedCount.clear();
        out.push({ kind: 'agent', agent, stale, at: now, silentMs });
      }
    }
    if (now - this.startedAt >= this.settings.startupGraceMs) {
      for (const cluster of this.topology.clustersById.values()) {
        // A new cluster also gets the grace: agents learn of it with their next assignment fetch.
        const seen = this.clusterSeenAt.get(cluster.id) ?? now;
        this.clusterSeenAt.set(cluster.id, seen);
        if (now - seen < this.settings.startupGraceMs && this.startedAt + this.settings.startupGraceMs < seen) continue;
        const capacity = this.canDecide(cluster.id, now);
        const before = this.decidable.get(cluster.id);
        this.decidable.set(cluster.id, capacity.canDecide);
        // The first conclusion after start is news only when it is bad.
        if (before === undefined ? !capacity.canDecide : before !== capacity.canDecide) {
          out.push({ kind: 'cluster', cluster, healthyAgents: this.healthyAgents(cluster.id), at: now, ...capacity });
        }
      }
    }
    // Verdicts change with reports (evaluated on arrival) or when an agent stops counting.
    if (agentsChanged) {
      for (const id of this.topology.nodesById.keys()) {
        const t = this.evaluateNode(id, now);
        if (t) out.push(t);
      }
    }
    return out;
  }

  /** Healthy (not stale) agents whose latest report covers the cluster (stalled ones included: see `canDecide`). */
  healthyAgents(clusterId: string): number {
    let n = 0;
    for (const agent of this.agents.values()) if (!agent.stale && agent.clusters.has(clusterId)) n++;
    return n;
  }

  /**
   * The denominator of ODOWN for a cluster: the registered agents that watch it, whether they report or
   * not, together with any healthy agent reporting on it that the registry does not list (yet).
   */
  assignedAgents(clusterId: string): number {
    let n = this.assignedCount.get(clusterId);
    if (n === undefined) {
      const registered = this.topology.assignedAgents.get(clusterId);
      n = registered?.size ?? 0;
      for (const agent of this.agents.values()) if (!agent.stale && agent.clusters.has(clusterId) && !registered?.has(agent.id)) n++;
      this.assignedCount.set(clusterId, n);
    }
    return n;
  }

  /**
   * Whether the agents that could vote on this cluster now — healthy, covering it, not stalled — can
   * reach both its quorum and a strict majority of the agents assigned to it; if not, why.
   */
  canDecide(clusterId: string, now: number): DecisionCapacity {
    const cluster = this.topology.clustersById.get(clusterId);
    if (!cluster) return { canDecide: false, reason: 'unknown cluster', assigned: 0, usable: 0 };
    let usable = 0;
    for (const agent of this.agents.values()) {
      const stale = agent.stale || now - agent.lastReportAt > this.settings.staleAfterMs;
      if (!stale && agent.clusters.has(clusterId) && !this.tilted(agent, cluster)) usable++;
    }
    return decisionCapacity(cluster.quorum, this.assignedAgents(clusterId), usable);
  }

  /** The last conclusion of the periodic pass; `undefined` until the startup grace has passed. */
  clusterCanDecide(clusterId: string): boolean | undefined {
    return this.decidable.get(clusterId);
  }

  voteWindowMs(agent: AgentTrack): number {
    return Math.min(this.settings.staleAfterMs, Math.max(this.settings.voteWindowIntervals * agent.intervalMs, this.settings.minVoteWindowMs));
  }

  /**
   * Whether this agent's view of a node in this cluster counts now: the agent is healthy, its latest
   * report (received within its vote window) covers the node, and it is not stalled. An agent whose
   * own ticks run late times replies late, so near down-after it could see a live node down (as
   * Sentinel's TILT mode guards against); its vote is then left out.
   */
  private votes(agent: AgentTrack, view: AgentView | undefined, cluster: DetectionCluster, now: number): view is AgentView {
    return (
      view !== undefined &&
      !agent.stale &&
      view.reportedAt === agent.lastReportAt &&
      now - agent.lastReportAt <= this.voteWindowMs(agent) &&
      !this.tilted(agent, cluster)
    );
  }

  tilted(agent: AgentTrack, cluster: { downAfterMs: number }): boolean {
    return (agent.lagMs + agent.intervalMs) * 3 >= cluster.downAfterMs * 2;
  }

  /** Milliseconds without a valid reply as this view tells now. */
  static noReplyMs(view: AgentView, now: number): number {
    // Only a failing view ages between reports; a view that was healthy when reported is not guessed
    // down (a controller stall must not turn every healthy view into a down vote).
    return Math.max(0, (view.failing ? now : view.reportedAt) - view.okAt);
  }

  /** The state alone, without allocating (runs for every node of every report). */
  private state(nodeId: string, cluster: DetectionCluster, now: number): NodeState {
    let voters = 0;
    let sdownVotes = 0;
    let faultVotes = 0;
    for (const agent of this.agents.values()) {
      const view = agent.views.get(nodeId);
      if (!this.votes(agent, view, cluster, now)) continue;
      voters++;
      if (view.st === 'auth') faultVotes++;
      else if (DetectionEngine.noReplyMs(view, now) >= cluster.downAfterMs) sdownVotes++;
    }
    return decide(this.assignedAgents(cluster.id), voters, sdownVotes, faultVotes, cluster.quorum);
  }

  /** The current verdict on a node, with every vote, from the agents that may vote on it now. */
  verdict(nodeId: string, now: number): NodeVerdict | undefined {
    const node = this.topology.nodesById.get(nodeId);
    const cluster = node && this.topology.clustersById.get(node.clusterId);
    if (!node || !cluster) return undefined;
    const votes: Vote[] = [];
    let sdownVotes = 0;
    let faultVotes = 0;
    for (const agent of this.agents.values()) {
      const view = agent.views.get(nodeId);
      if (!this.votes(agent, view, cluster, now)) continue;
      const noReplyMs = DetectionEngine.noReplyMs(view, now);
      const sdown = view.st !== 'auth' && noReplyMs >= cluster.downAfterMs;
      if (sdown) sdownVotes++;
      if (view.st === 'auth') faultVotes++;
      votes.push({
        agent: agent.name,
        zone: agent.zone,
        sdown,
        st: view.st,
        noReplyMs,
        lagMs: agent.lagMs,
        ...(view.err !== undefined ? { err: view.err } : {}),
      });
    }
    const assigned = Math.max(this.assignedAgents(cluster.id), votes.length);
    return { state: decide(assigned, votes.length, sdownVotes, faultVotes, cluster.quorum), assigned, voters: votes.length, sdownVotes, faultVotes, votes };
  }

  private evaluateNode(nodeId: string, now: number): DetectionTransition | undefined {
    const known = this.topology.nodesById.get(nodeId);
    const owner = known && this.topology.clustersById.get(known.clusterId);
    if (!owner) return undefined;
    const track = this.nodes.get(nodeId);
    const from: NodeState = track?.state ?? 'unknown';
    const state = this.state(nodeId, owner, now);
    // With no voter left the last known state stands: when agents return, the change is measured from it.
    if (track?.state === state || (track && state === 'unknown')) return undefined;
    const v = this.verdict(nodeId, now)!;
    if (track) {
      track.state = v.state;
      track.since = now;
    } else {
      this.nodes.set(nodeId, { state: v.state, since: now });
    }
    // First sight of a healthy node is not news; losing every voter is the agents' news (stale, cannot decide).
    if (v.state === 'unknown' || (v.state === 'up' && from === 'unknown')) return undefined;
    const node = this.topology.nodesById.get(nodeId)!;
    const cluster = this.topology.clustersById.get(node.clusterId)!;
    const transition: DetectionTransition = {
      kind: 'node',
      node,
      cluster,
      from,
      to: v.state,
      at: now,
      votes: v.votes,
      voters: v.voters,
      sdownVotes: v.sdownVotes,
      assigned: v.assigned,
    };
    if (v.state === 'odown') {
      const expiries = v.votes
        .filter((x) => x.sdown)
        .map((x) => now - x.noReplyMs + cluster.downAfterMs)
        .sort((a, b) => a - b);
      const needed = odownNeeds(cluster.quorum, v.assigned);
      transition.quorumReachedAt = expiries[needed - 1];
      transition.faultSince = now - Math.max(...v.votes.filter((x) => x.sdown).map((x) => x.noReplyMs));
      transition.replicas = this.replicaEvidence(cluster, nodeId, now);
    }
    return transition;
  }

  /** What the other nodes of the cluster say about their link to their master, freshest agent view first. */
  private replicaEvidence(cluster: DetectionCluster, exceptNodeId: string, now: number): ReplicaEvidence[] {
    return cluster.nodes
      .filter((n) => n.id !== exceptNodeId)
      .map((n) => {
        let best: { view: AgentView; agent: AgentTrack } | undefined;
        for (const agent of this.agents.values()) {
          const view = agent.views.get(n.id);
          if (view?.repl && !agent.stale && (!best || view.repl.readAt > best.view.repl!.readAt)) best = { view, agent };
        }
        const r = best?.view.repl;
        return {
          host: n.host,
          port: n.port,
          ...(r
            ? {
                role: r.role,
                masterHost: r.masterHost,
                masterPort: r.masterPort,
                linkUp: r.linkUp,
                linkDownSinceS: r.linkDownSinceS,
                seenBy: best!.agent.name,
                ageMs: now - r.readAt,
              }
            : {}),
        };
      });
  }
}
