import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { AgentReport } from '../../../../libs/contracts/src/index.js';
import { AuditService, type EventInput } from '../audit/audit.service.js';
import { VigilError } from '../common/errors.js';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/config.js';
import { LeadershipService } from '../leadership/leadership.service.js';
import { MetricsService } from '../observability/metrics.service.js';
import { TopologyCache } from '../topology/topology-cache.service.js';
import { type NodeView, nodeView } from './node-view.js';
import { DetectionEngine, type DetectionTransition, NODE_STATES, type NodeState, odownNeeds } from './detection-engine.js';

/** The evaluation pass for staleness and agent counts; node verdicts are also re-checked on every report. */
const TICK_MS = 100;
/** A report naming nodes this replica does not know starts a full topology reload at most this often. */
const UNKNOWN_NODE_RELOAD_MS = 1000;

const NODE_EVENT: Record<NodeState, string> = {
  up: 'node.up',
  sdown: 'node.sdown',
  odown: 'node.odown',
  'config-fault': 'node.config_fault',
  unknown: 'node.unknown',
};

/** Who sent a report, once the token binding has been checked. */
export interface Reporter {
  id: string;
  name: string;
  zone: string;
}

/**
 * Wires the pure detection engine to the outside: reports in (from the agents module), transitions
 * out as events in the log (by the leader only, written in the background, never delaying detection),
 * as in-process `transition` emissions for the failover engine, and as metrics.
 */
@Injectable()
export class DetectionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DetectionService.name);
  private unknownReloadAt = 0;
  readonly engine: DetectionEngine;
  /** Emits `transition` with each `DetectionTransition`, synchronously, in order. */
  readonly transitions = new EventEmitter();
  /**
   * Emits `rogue` with `{nodeId, runId, agent}` when an agent sees a node claim master that the topology
   * does not hold as master, `misdirected` with `{nodeId, follows}` for a replica following another
   * node than the recorded master, and `master-reports-replica` with `{nodeId, follows, agent}` when the
   * recorded master itself reports the replica role.
   */
  readonly rogueMasters = new EventEmitter();
  private readonly actor: string;
  private timer: NodeJS.Timeout | undefined;
  private pending: EventInput[] = [];
  private writing = false;
  private readonly reportSeconds: Histogram<'outcome'>;
  private readonly latency: Histogram;
  private readonly transitionsTotal: Counter<'to'>;

  constructor(
    private readonly topology: TopologyCache,
    private readonly audit: AuditService,
    private readonly leadership: LeadershipService,
    metrics: MetricsService,
    @Inject(CONTROLLER_CONFIG) config: ControllerConfig,
  ) {
    this.actor = `controller:${config.controllerName}`;
    this.engine = new DetectionEngine(
      { staleAfterMs: config.agentStaleAfterMs, voteWindowIntervals: 3, minVoteWindowMs: 1000, startupGraceMs: config.agentStaleAfterMs },
      Date.now(),
    );
    const registers = [metrics.registry];
    this.reportSeconds = new Histogram({
      name: 'vigil_agent_report_handling_seconds',
      help: 'Time to validate and apply one agent report, by outcome',
      labelNames: ['outcome'] as const,
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers,
    });
    this.latency = new Histogram({
      name: 'vigil_detection_latency_seconds',
      help: "Time from the quorum's down-after expiry to the ODOWN decision",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5],
      registers,
    });
    this.transitionsTotal = new Counter({
      name: 'vigil_detection_transitions_total',
      help: 'Node state transitions, by new state',
      labelNames: ['to'] as const,
      registers,
    });
    const engine = this.engine;
    const cache = this.topology;
    new Gauge({
      name: 'vigil_detection_nodes',
      help: 'Nodes by detection state as this controller sees them now',
      labelNames: ['state'] as const,
      registers,
      collect() {
        const counts = Object.fromEntries(NODE_STATES.map((s) => [s, 0])) as Record<NodeState, number>;
        const now = Date.now();
        for (const id of cache.snapshot.nodesById.keys()) counts[engine.verdict(id, now)?.state ?? 'unknown']++;
        for (const s of NODE_STATES) this.set({ state: s }, counts[s]);
      },
    });
    new Gauge({
      name: 'vigil_detection_clusters_cannot_decide',
      help: 'Clusters whose usable agents cannot reach both quorum and a strict majority of the agents assigned (no node can go ODOWN)',
      registers,
      collect() {
        let n = 0;
        const now = Date.now();
        for (const c of cache.snapshot.clusters) if (!engine.canDecide(c.id, now).canDecide) n++;
        this.set(n);
      },
    });
    this.registerAgentLag(registers);
    new Gauge({
      name: 'vigil_agent_report_age_seconds',
      help: "Age of each agent's latest report at this controller (agent lag)",
      labelNames: ['agent', 'zone'] as const,
      registers,
      collect() {
        this.reset();
        const now = Date.now();
        for (const a of engine.agents.values()) this.set({ agent: a.name, zone: a.zone }, (now - a.lastReportAt) / 1000);
      },
    });
  }

  private registerAgentLag(registers: MetricsService['registry'][]): void {
    const engine = this.engine;
    new Gauge({
      name: 'vigil_agent_probe_lag_seconds',
      help: "How late each agent's probe ticks ran lately, as it reports (near a cluster's down-after its votes there are left out)",
      labelNames: ['agent', 'zone'] as const,
      registers,
      collect() {
        this.reset();
        for (const a of engine.agents.values()) this.set({ agent: a.name, zone: a.zone }, a.lagMs / 1000);
      },
    });
  }

  onApplicationBootstrap(): void {
    this.leadership.changes.on('change', (leading: boolean) => {
      if (leading) this.recordStateOnElection();
    });
    this.engine.setTopology(this.topology.snapshot);
    this.topology.onChange((snapshot, change) => this.engine.setTopology(snapshot, change.kind === 'clusters' ? change : undefined));
    this.timer = setInterval(() => this.apply(this.engine.tick(Date.now())), TICK_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /**
   * Applies one validated report. Refused whole (nothing changes) when it names a node this
   * controller does not know; a topology reload is started in case this replica is behind.
   */
  ingest(reporter: Reporter, report: AgentReport): void {
    const stop = this.reportSeconds.startTimer();
    const unknown = this.engine.unknownNodes(report.nodes);
    if (unknown.length > 0) {
      stop({ outcome: 'refused' });
      // At most one full reload a second for this: a reporter repeating unknown ids must not keep the
      // controller reloading back to back (a replica that is behind catches up within that second).
      const now = Date.now();
      if (now - this.unknownReloadAt >= UNKNOWN_NODE_RELOAD_MS) {
        this.unknownReloadAt = now;
        void this.topology.reload();
      }
      throw VigilError.validation(unknown.slice(0, 20).map((i) => ({ field: `nodes[${i}].id`, reason: 'is not a node of any cluster' })));
    }
    this.apply(this.engine.ingest(reporter, report, Date.now()));
    // A node claiming to be master that the topology holds as something else (an old master back from
    // a failover, a node restarted empty): said at once, for the failover engine to fence.
    // Likewise a replica following another node than the recorded master (it was away during a failover).
    const track = this.engine.agents.get(reporter.id);
    for (const o of report.nodes) {
      if (o.st !== 'ok' && o.st !== 'busy') continue;
      const node = this.topology.snapshot.nodesById.get(o.id);
      if (!node) continue;
      // A master claim is acted on from this agent's latest reading too, not only from a report that
      // carries one: agents repeat an unchanged reading only every 5 s, and an old master back from a
      // partition has not changed in their eyes (the reconciler confirms with its own probe).
      if (!o.repl) {
        const last = track?.views.get(o.id)?.repl;
        if (last?.role === 'master' && node.role !== 'master') this.rogueMasters.emit('rogue', { nodeId: o.id, runId: last.runId, agent: reporter.name });
        continue;
      }
      if (o.repl.role === 'master') {
        if (node.role !== 'master') this.rogueMasters.emit('rogue', { nodeId: o.id, runId: o.repl.runId, agent: reporter.name });
      } else if (node.role === 'master') {
        // The recorded master says it is a replica: a fault of its own (a failed failover's fencing left
        // behind, a REPLICAOF from outside), for the failover engine to record and repair.
        this.rogueMasters.emit('master-reports-replica', {
          nodeId: o.id,
          follows: `${o.repl.masterHost ?? ''}:${o.repl.masterPort ?? ''}`,
          agent: reporter.name,
        });
      } else {
        const master = this.topology.snapshot.clustersById.get(node.clusterId)?.nodes.find((n) => n.role === 'master');
        const follows = `${o.repl.masterHost ?? ''}:${o.repl.masterPort ?? ''}`;
        if (master && follows.toLowerCase() !== `${master.host}:${master.port}`) this.rogueMasters.emit('misdirected', { nodeId: o.id, follows });
      }
    }
    stop({ outcome: 'accepted' });
  }

  /**
   * A new leader records what detection stands at, so a transition a standby saw while the old leader
   * was dying is in the log, once, as state.
   */
  private recordStateOnElection(): void {
    const now = Date.now();
    const nodes: Record<string, unknown>[] = [];
    for (const [id, track] of this.engine.nodes) {
      if (track.state === 'up' || track.state === 'unknown') continue;
      const node = this.topology.snapshot.nodesById.get(id);
      const cluster = node && this.topology.snapshot.clustersById.get(node.clusterId);
      if (!node || !cluster) continue;
      nodes.push({ cluster: cluster.name, host: node.host, port: node.port, state: track.state, since: new Date(track.since).toISOString() });
    }
    const cannotDecide = this.topology.snapshot.clusters.filter((c) => this.engine.clusterCanDecide(c.id) === false).map((c) => c.name);
    this.pending.push({ type: 'detection.state', actor: this.actor, data: { at: new Date(now).toISOString(), nodesNotUp: nodes, cannotDecide } });
    void this.flush();
  }

  /** The published view of one node (verdict, votes, the agents' latest reading): what other modules read. */
  nodeView(nodeId: string, now = Date.now()): NodeView {
    return nodeView(this.engine, nodeId, now);
  }

  /** Whether detection can decide for a cluster now, and why not. */
  canDecide(clusterId: string, now = Date.now()): ReturnType<DetectionEngine['canDecide']> {
    return this.engine.canDecide(clusterId, now);
  }

  forgetAgent(id: string): void {
    this.engine.forgetAgent(id);
  }

  private apply(transitions: DetectionTransition[]): void {
    for (const t of transitions) {
      try {
        this.transitions.emit('transition', t);
      } catch (err) {
        this.logger.error({ err: (err as Error).message }, 'transition listener failed');
      }
      const event = this.describe(t);
      const leader = this.leadership.isLeader();
      this.logger.log({ type: event.type, cluster: event.cluster?.name, leader, ...event.data }, 'detection');
      // Every replica detects (standbys hold the same evidence); only the leader writes the log.
      if (leader) this.pending.push(event);
    }
    if (transitions.length > 0) void this.flush();
  }

  private describe(t: DetectionTransition): EventInput {
    const at = new Date(t.at).toISOString();
    if (t.kind === 'agent') {
      return {
        type: t.stale ? 'agent.stale' : 'agent.recovered',
        actor: this.actor,
        data: { agentId: t.agent.id, name: t.agent.name, zone: t.agent.zone, silentMs: t.silentMs, decidedAt: at },
      };
    }
    if (t.kind === 'cluster') {
      return {
        type: t.canDecide ? 'cluster.can_decide' : 'cluster.cannot_decide',
        actor: this.actor,
        cluster: { id: t.cluster.id, name: t.cluster.name },
        data: {
          healthyAgents: t.healthyAgents,
          usableAgents: t.usable,
          assignedAgents: t.assigned,
          quorum: t.cluster.quorum,
          ...(t.reason !== undefined ? { reason: t.reason } : {}),
          decidedAt: at,
        },
      };
    }
    this.transitionsTotal.inc({ to: t.to });
    const data: Record<string, unknown> = {
      node: { id: t.node.id, host: t.node.host, port: t.node.port },
      from: t.from,
      to: t.to,
      quorum: t.cluster.quorum,
      downAfterMs: t.cluster.downAfterMs,
      assigned: t.assigned ?? t.voters,
      needed: odownNeeds(t.cluster.quorum, t.assigned ?? t.voters),
      voters: t.voters,
      sdownVotes: t.sdownVotes,
      votes: t.votes,
      decidedAt: at,
    };
    if (t.to === 'odown') {
      if (t.quorumReachedAt !== undefined) {
        const latencyMs = Math.max(0, t.at - t.quorumReachedAt);
        this.latency.observe(latencyMs / 1000);
        data['detectionLatencyMs'] = latencyMs;
        data['quorumReachedAt'] = new Date(t.quorumReachedAt).toISOString();
      }
      if (t.faultSince !== undefined) data['faultSince'] = new Date(t.faultSince).toISOString();
      data['replicas'] = t.replicas;
    }
    return { type: NODE_EVENT[t.to], actor: this.actor, cluster: { id: t.cluster.id, name: t.cluster.name }, data };
  }

  /** Writes queued events in order, one writer at a time; a failed write is logged and dropped, never blocks detection. */
  private async flush(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        try {
          await this.audit.recordMany(batch);
        } catch (err) {
          this.logger.error({ err: (err as Error).message, events: batch.length }, 'could not record detection events');
        }
      }
    } finally {
      this.writing = false;
    }
  }
}
