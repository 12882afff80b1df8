import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { DetectionTransition } from '../detection/detection-engine.js';
import { DetectionService } from '../detection/detection.service.js';
import { type CachedCluster, type CachedNode, TopologyCache } from '../topology/topology-cache.service.js';
import { ClusterDecisions } from './cluster-decisions.js';
import { ClusterObserver } from './cluster-observer.js';
import { autoFailoverContext, autoFailoverRefusal, type Refusal } from './failover-policy.js';
import type { MasterEvidence } from './master-evidence.js';
import { FailoverRuns } from './failover-runs.js';
import { FencedError } from './failover-store.js';
import type { FailoverEntity } from './failover.entity.js';

/** Why a failover is being considered, as detection saw it. */
interface Cause {
  faultSince?: number;
  odownAt?: number;
  detail: Record<string, unknown>;
}

const SWEEP_MS = 1000;
/** A refusal that says the same thing is recorded again at most this often (it is re-checked every sweep). */
const REFUSAL_REPEAT_MS = 60_000;

const addr = (n: { host: string; port: number }) => `${n.host}:${n.port}`;

/**
 * What starts automatic failovers (leader only): detection's ODOWN of a recorded master, and a 1 s
 * sweep that catches what a transition alone cannot — a new leader, a refusal that lifted (maintenance
 * or cooldown over, a safe candidate back, a retry due) — and resumes what another leader left running.
 *
 * Before raising the epoch it reads the cluster once (the master's own evidence and the candidates):
 * a master that is still alive by its own evidence (`master-alive`) or a group with no replica that
 * holds the master's data (`no-safe-candidate`) is refused, with the evidence, and looked at again on
 * every sweep. Every refusal is a `failover.refused` event.
 */
@Injectable()
export class FailoverTriggers implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(FailoverTriggers.name);
  private readonly lastRefusal = new Map<string, { key: string; at: number }>();
  /** When each recorded master's fault began (from the ODOWN transition), for the staleness limit. */
  private readonly faultSince = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;

  constructor(
    private readonly detection: DetectionService,
    private readonly topology: TopologyCache,
    private readonly observer: ClusterObserver,
    private readonly runs: FailoverRuns,
    private readonly decisions: ClusterDecisions,
  ) {}

  onApplicationBootstrap(): void {
    this.detection.transitions.on('transition', (t: DetectionTransition) => {
      if (t.kind !== 'node') return;
      if (t.to === 'odown') {
        if (t.faultSince !== undefined) this.faultSince.set(t.node.id, t.faultSince);
        this.consider(t.cluster.id, { faultSince: t.faultSince, odownAt: t.at, detail: { votes: t.votes, voters: t.voters, quorum: t.cluster.quorum } });
      } else if (t.to === 'up') {
        this.faultSince.delete(t.node.id);
        if (this.topology.snapshot.nodesById.get(t.node.id)?.role === 'master') this.decisions.clear(t.cluster.id);
      }
    });
    this.timer = setInterval(() => void this.sweep(), SWEEP_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.runs.drain();
  }

  private get leading(): boolean {
    return this.runs.leadership.isLeader();
  }

  /** Resume what a previous leader left running first, then act on masters still ODOWN. */
  private async sweep(): Promise<void> {
    if (!this.leading || this.sweeping) return;
    this.sweeping = true;
    try {
      await this.resumeRunning();
      for (const cluster of this.topology.snapshot.clusters) {
        const master = cluster.nodes.find((n) => n.role === 'master');
        // The recorded state, not a fresh verdict: a verdict can read ODOWN from aging views before detection
        // has declared it, and a failover started here then would lose the transition's evidence.
        if (master && this.detection.engine.nodes.get(master.id)?.state === 'odown') this.consider(cluster.id, { detail: { via: 'sweep' } });
      }
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'failover sweep failed');
    } finally {
      this.sweeping = false;
    }
  }

  /**
   * Failovers left running by another leader (or by a run of this one that stopped on an error):
   * superseded ones (the epoch moved on) are closed as aborted; the current one of each cluster is
   * resumed from its persisted phase under a raised epoch, so the previous leader, even paused and
   * waking now, can write nothing more.
   */
  private async resumeRunning(): Promise<void> {
    for (const record of await this.runs.store.runningAll()) {
      const cluster = record.clusterId ? this.topology.snapshot.clustersById.get(record.clusterId) : undefined;
      if (!cluster || this.runs.isActive(cluster.id) || !this.leading) continue;
      if (record.epoch < cluster.epoch) {
        const error = `superseded by epoch ${cluster.epoch}`;
        await this.runs.store
          .finish(record.id, 'aborted', null, error, {
            type: 'failover.aborted',
            actor: this.runs.actor,
            cluster,
            data: { failoverId: record.id, epoch: record.epoch, error },
          })
          .catch(() => undefined);
        continue;
      }
      this.runs.track(cluster.id, () => this.resume(cluster, record))?.catch((err: unknown) => this.runFailed(cluster, err));
    }
  }

  private async resume(cluster: CachedCluster, record: FailoverEntity): Promise<void> {
    const oldMaster = cluster.nodes.find((n) => record.fromAddress === addr(n));
    const fence = await this.runs.store.resume(
      record,
      { holder: this.runs.leadership.identity, term: this.runs.leadership.currentTerm },
      { type: 'failover.resumed', actor: this.runs.actor, cluster, data: { phase: record.state, target: record.targetAddress, previousTerm: record.term } },
    );
    this.logger.warn({ cluster: cluster.name, failoverId: record.id, phase: record.state, epoch: fence.epoch }, 'resuming a failover left running');
    const target = record.targetAddress ? cluster.nodes.find((n) => addr(n) === record.targetAddress) : undefined;
    const runner = this.runs.runner(
      cluster,
      oldMaster,
      { id: record.id, trigger: record.trigger, startedAt: record.startedAt, fence },
      {
        sdownSince: oldMaster ? this.sdownSince(cluster, oldMaster) : undefined,
        from: {
          // A phase that needs a chosen node that is gone from the topology starts over from the choice.
          phase: target || record.state === 'decided' ? record.state : 'decided',
          target: target
            ? {
                id: target.id,
                host: target.host,
                port: target.port,
                ...(record.targetRunId ? { runId: record.targetRunId } : {}),
                ...(record.targetOffset !== null ? { offset: record.targetOffset } : {}),
              }
            : null,
        },
      },
    );
    await this.runs.store.fencedStep(record.id, fence, 'resumed', 'succeeded', new Date(), {
      by: this.runs.actor,
      phase: record.state,
      previousEpoch: record.epoch,
    });
    // A switchover interrupted before the hand-over completed is not redone by another leader.
    if (record.trigger === 'switchover' && (record.state === 'decided' || record.state === 'fencing')) {
      const error = 'interrupted by a change of leader before the hand-over completed';
      await this.runs.store.finish(
        record.id,
        'aborted',
        null,
        error,
        { type: 'failover.aborted', actor: this.runs.actor, cluster, data: { failoverId: record.id, epoch: fence.epoch, error } },
        fence,
      );
      return;
    }
    await runner.run();
  }

  private sdownSince(cluster: CachedCluster, master: CachedNode): number | undefined {
    const known = this.faultSince.get(master.id);
    if (known !== undefined) return known;
    const track = this.detection.engine.nodes.get(master.id);
    return track && track.state === 'odown' ? track.since - cluster.downAfterMs : undefined;
  }

  /** Starts a failover of the cluster unless one runs in this process already. */
  private consider(clusterId: string, cause: Cause): void {
    if (!this.leading) return;
    this.runs
      .track(clusterId, () => this.decide(clusterId, cause))
      ?.catch((err: unknown) => {
        const cluster = this.topology.snapshot.clustersById.get(clusterId);
        if (cluster) this.runFailed(cluster, err);
      });
  }

  private runFailed(cluster: CachedCluster, err: unknown): void {
    if (err instanceof FencedError)
      this.logger.warn({ cluster: cluster.name, err: err.message }, 'failover stopped: fenced (another leader or epoch took over)');
    else this.logger.error({ cluster: cluster.name, err: (err as Error).message }, 'failover run failed; the sweep resumes it');
  }

  /** The decision: every guard, the master's own evidence, a safe candidate; then the epoch is raised and the run starts. */
  private async decide(clusterId: string, cause: Cause): Promise<void> {
    const cluster = this.topology.snapshot.clustersById.get(clusterId);
    const master = cluster?.nodes.find((n) => n.role === 'master');
    if (!cluster || !master) return;
    if (this.detection.engine.verdict(master.id, Date.now())?.state !== 'odown') return;

    const history = await this.runs.store.history(cluster.id);
    const now = Date.now();
    const decidable = this.canDecide(cluster);
    const refusal = autoFailoverRefusal(autoFailoverContext(cluster, history, decidable, now));
    // One running already is not news: it is this leader's own, or one the sweep resumes.
    if (refusal?.code === 'running') return;
    if (refusal) return this.refuse(cluster, master, refusal, {});

    const sdownSince = cause.faultSince ?? this.sdownSince(cluster, master);
    const seen = await this.observer.observe(cluster, master, sdownSince);
    if (cluster.requireMasterDeadEvidence && seen.evidence?.alive) {
      return this.refuse(cluster, master, { code: 'master-alive', reason: seen.evidence.summary }, { evidence: seen.evidence });
    }
    if (seen.ranking.candidates.length === 0) {
      const reasons = seen.ranking.excluded.map((e) => `${addr(e)}: ${e.reason}`).join('; ');
      return this.refuse(
        cluster,
        master,
        { code: 'no-safe-candidate', reason: `no replica can be promoted safely (${reasons || 'no replicas'})` },
        {
          excluded: seen.ranking.excluded,
          evidence: seen.evidence,
        },
      );
    }
    this.lastRefusal.delete(cluster.id);

    const begun = await this.runs.begin(cluster, master, 'auto', this.runs.actor, { ...cause.detail, evidence: seen.evidence });
    this.decisions.decided(cluster.id, { outcome: 'started', failoverId: begun.id, ...(seen.evidence ? { evidence: { ...seen.evidence } } : {}) });
    const runner = this.runs.runner(
      cluster,
      master,
      { id: begun.id, trigger: 'auto', startedAt: begun.startedAt, fence: begun.fence },
      { decidedOn: seen, sdownSince },
    );
    const step = (name: string, at: number, detail: Record<string, unknown>) =>
      this.runs.store.fencedStep(begun.id, begun.fence, name, 'succeeded', new Date(at), detail);
    if (cause.faultSince !== undefined) {
      runner.mark('faultSeen', new Date(cause.faultSince));
      await step('fault_seen', cause.faultSince, {});
    }
    if (cause.odownAt !== undefined) {
      runner.mark('odown', new Date(cause.odownAt));
      await step('odown', cause.odownAt, cause.detail);
    }
    await step('decided', begun.startedAt.getTime(), {
      epoch: begun.epoch,
      evidence: seen.evidence,
      requireMasterDeadEvidence: cluster.requireMasterDeadEvidence,
    });
    await runner.run();
  }

  /** Whether detection can decide for the cluster (quorum and a majority of the assigned agents usable), and why not. */
  private canDecide(cluster: CachedCluster): { canDecide: boolean; cannotDecideReason?: string } {
    const d = this.detection.canDecide(cluster.id);
    return d.canDecide ? { canDecide: true } : { canDecide: false, cannotDecideReason: d.reason ?? 'detection cannot decide for this cluster' };
  }

  /** Records a decision not to fail over (once per distinct reason, and again every minute while it holds). */
  private async refuse(cluster: CachedCluster, master: CachedNode, refusal: Refusal, evidence: Record<string, unknown>): Promise<void> {
    this.decisions.decided(cluster.id, { outcome: 'refused', code: refusal.code, reason: refusal.reason, evidence });
    const now = Date.now();
    const key = `${refusal.code}:${refusalKey(refusal, evidence)}`;
    const last = this.lastRefusal.get(cluster.id);
    if (last && last.key === key && now - last.at < REFUSAL_REPEAT_MS) return;
    this.lastRefusal.set(cluster.id, { key, at: now });
    await this.runs.store.record({
      type: 'failover.refused',
      actor: this.runs.actor,
      cluster,
      data: { code: refusal.code, reason: refusal.reason, master: addr(master), epoch: cluster.epoch, ...evidence },
    });
  }
}

/**
 * What makes a refusal news again: its code and, where the reason text carries counters (seconds left,
 * seconds a link has been down), the facts behind it rather than the text.
 */
function refusalKey(refusal: Refusal, evidence: Record<string, unknown>): string {
  switch (refusal.code) {
    case 'backoff':
    case 'cooldown':
      return '';
    case 'no-safe-candidate':
      return ((evidence['excluded'] as { id: string; code: string }[] | undefined) ?? []).map((e) => `${e.id}=${e.code}`).join(',');
    case 'master-alive': {
      const e = evidence['evidence'] as MasterEvidence | undefined;
      return `${e?.leader.answered ?? false}:${(e?.replicas ?? [])
        .filter((r) => r.saysAlive)
        .map((r) => r.replica)
        .join(',')}`;
    }
    default:
      return refusal.reason;
  }
}
