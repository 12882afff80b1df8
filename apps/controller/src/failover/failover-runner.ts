import type { Logger } from '@nestjs/common';
import {
  applyWriteSafety,
  disconnectClients,
  followMaster,
  handOver,
  persistConfig,
  probeReplication,
  promoteToMaster,
  readRole,
} from '../../../../libs/redis-admin/src/index.js';
import type { ControllerConfig } from '../config/config.js';
import type { LeadershipService } from '../leadership/leadership.service.js';
import type { CachedCluster, CachedNode, TopologyCache } from '../topology/topology-cache.service.js';
import { restrictTo } from './candidate-ranking.js';
import { type ClusterObservation, type ClusterObserver, nodeAddress, OLD_MASTER_PROBE_MS } from './cluster-observer.js';
import { type Action, nextPhase, type Observations, type PlanState, type PlanTarget, plan } from './failover-planner.js';
import { type FailoverStore, FencedError, type FenceToken } from './failover-store.js';
import type { FailoverEntity } from './failover.entity.js';
import type { MasterChanges } from './master-changes.js';

const addr = (n: { host: string; port: number }) => `${n.host}:${n.port}`;

export interface RunnerDeps {
  store: FailoverStore;
  observer: ClusterObserver;
  topology: TopologyCache;
  leadership: LeadershipService;
  masterChanges: MasterChanges;
  config: ControllerConfig;
  actor: string;
  logger: Logger;
}

export interface RunRecord {
  id: string;
  trigger: FailoverEntity['trigger'];
  startedAt: Date;
  fence: FenceToken;
}

export interface RunOptions {
  /** Only this node ("host:port") may be promoted. */
  target?: string;
  /** An operator accepts promoting a target that holds less data (see `restrictTo`). */
  acceptDataLoss?: boolean;
  /** The observation the decision was made on (reused for the first choice: no second round of probes). */
  decidedOn?: ClusterObservation;
  /** Staleness is measured from the master's SDOWN time. */
  sdownSince?: number;
  /** The state to start from (a resumed record); a fresh run starts in `decided`. */
  from?: Pick<PlanState, 'phase' | 'target'>;
}

export type RunOutcome = 'succeeded' | 'failed' | 'aborted';

/**
 * The thin runner of the failover state machine: it reads what the phase needs, asks the pure planner
 * for one action, checks it still leads, performs the action and persists the next phase — every write
 * fenced by (epoch, term) in SQL. A deposed leader stops with `FencedError` and writes nothing more: it
 * never ends the record as `failed`.
 */
export class FailoverRunner {
  private readonly state: PlanState;
  private readonly phases: Record<string, string> = {};
  private observation: ClusterObservation | undefined;
  private resumed: boolean;

  constructor(
    private readonly d: RunnerDeps,
    private readonly cluster: CachedCluster,
    private readonly oldMaster: CachedNode | undefined,
    private readonly record: RunRecord,
    private readonly options: RunOptions = {},
  ) {
    this.state = {
      phase: options.from?.phase ?? 'decided',
      trigger: record.trigger,
      target: options.from?.target ?? null,
      failed: [],
      oldMasterFenced: false,
      deadline: record.startedAt.getTime() + cluster.failoverTimeoutMs,
    };
    this.resumed = options.from !== undefined;
    this.observation = options.decidedOn;
    this.phases['decided'] = record.startedAt.toISOString();
  }

  mark(name: string, at = new Date()): void {
    this.phases[name] = at.toISOString();
  }

  /** Runs the machine to a terminal phase. Throws `FencedError` when this controller was deposed meanwhile. */
  async run(): Promise<RunOutcome> {
    for (;;) {
      const action = plan(this.state, await this.observe());
      if (action.kind === 'none') return this.state.phase === 'done' ? 'succeeded' : (this.state.phase as RunOutcome);
      // The leadership guard sits here, around each transition, never inside a candidate loop: a
      // deposed leader's error ends the run, it is not mistaken for a failed candidate.
      this.guard();
      await this.perform(action);
      this.resumed = false;
    }
  }

  private guard(): void {
    if (!this.d.leadership.isLeader() || this.d.leadership.currentTerm !== this.record.fence.term) {
      throw new FencedError('this controller replica no longer leads in the term of this failover');
    }
  }

  /** The old master answered when the run looked (fenced, or handed over): it may be told things. */
  private get oldMasterAnswered(): boolean {
    return this.state.oldMasterFenced || this.state.trigger === 'switchover' || this.observation?.oldMaster.answers === true;
  }

  private get timeout(): number {
    return this.d.config.redisAdminTimeoutMs;
  }

  /** What the current phase needs to be planned, read now. */
  private async observe(): Promise<Observations> {
    const now = Date.now();
    switch (this.state.phase) {
      case 'decided': {
        if (!this.observation || this.state.failed.length > 0 || this.resumed) {
          this.observation = await this.d.observer.observe(this.cluster, this.oldMaster, this.options.sdownSince);
        }
        const { ranking, inputs } = this.observation;
        return { now, ranking: this.options.target ? restrictTo(ranking, inputs, this.options.target, this.options.acceptDataLoss) : ranking };
      }
      case 'fencing':
        if (!this.oldMaster) return { now, oldMaster: { answers: false } };
        if (this.resumed || !this.observation) {
          const role = await readRole(nodeAddress(this.cluster, this.oldMaster), Math.min(this.timeout, OLD_MASTER_PROBE_MS)).catch(() => undefined);
          return { now, oldMaster: { answers: role !== undefined, ...(role ? { role: role.role } : {}) } };
        }
        return { now, oldMaster: this.observation.oldMaster };
      case 'promoting': {
        if (!this.resumed || !this.state.target) return { now };
        const probe = await probeReplication(nodeAddress(this.cluster, this.state.target), this.timeout);
        return {
          now,
          target: probe.ok
            ? {
                answers: true,
                role: probe.info.role,
                offset: Math.max(probe.info.masterReplOffset, probe.info.replicaReplOffset ?? 0),
                ...(probe.info.runId ? { runId: probe.info.runId } : {}),
              }
            : { answers: false, error: probe.error },
        };
      }
      default:
        return { now };
    }
  }

  private step(name: string, status: 'started' | 'succeeded' | 'failed' | 'skipped', detail: Record<string, unknown> = {}, at = new Date()): Promise<void> {
    return this.d.store.fencedStep(this.record.id, this.record.fence, name, status, at, detail);
  }

  private event(type: string, data: Record<string, unknown>) {
    return { type, actor: this.d.actor, cluster: this.cluster, data: { failoverId: this.record.id, epoch: this.record.fence.epoch, ...data } };
  }

  private async advance(action: Action, target?: { address: string | null; runId: string | null; offset: number | null }): Promise<void> {
    const phase = nextPhase(action)!;
    await this.d.store.transition(this.record.id, this.record.fence, phase, target);
    this.state.phase = phase;
  }

  private async perform(action: Action): Promise<void> {
    const { cluster, oldMaster } = this;
    switch (action.kind) {
      case 'choose': {
        const t = action.target;
        await this.step('candidates', 'succeeded', { chosen: addr(t), ...this.observationSummary() });
        await this.advance(action, { address: addr(t), runId: t.runId ?? null, offset: t.offset });
        this.state.target = { id: t.id, host: t.host, port: t.port, offset: t.offset, ...(t.runId ? { runId: t.runId } : {}) };
        return;
      }
      case 'fence-old-master': {
        try {
          await followMaster(nodeAddress(cluster, oldMaster!), action.target, this.timeout);
          this.state.oldMasterFenced = true;
          await this.step('old_master_fenced', 'succeeded', { node: addr(oldMaster!), follows: addr(action.target) });
        } catch (err) {
          await this.step('old_master_fenced', 'failed', { node: addr(oldMaster!), error: (err as Error).message });
        }
        return this.advance(action);
      }
      case 'skip-fence':
        await this.step('old_master_fenced', 'skipped', { node: oldMaster ? addr(oldMaster) : null, reason: action.reason });
        return this.advance(action);
      case 'promote': {
        let role;
        try {
          role = await promoteToMaster(nodeAddress(cluster, action.target), this.timeout);
        } catch (err) {
          await this.step('promoted', 'failed', { node: addr(action.target), error: (err as Error).message });
          return this.dropCandidate({ kind: 'next-candidate', target: action.target, reason: (err as Error).message });
        }
        this.mark('promoted');
        await this.step('promoted', 'succeeded', { node: addr(action.target), role });
        await this.persistRole(action.target);
        return this.recordAndPublish(action.target);
      }
      case 'adopt':
        this.mark('promoted');
        await this.step('promoted', 'succeeded', { node: addr(action.target), adopted: true, reason: 'already master, same run id, offset kept' });
        return this.recordAndPublish(action.target);
      case 'hand-over':
        return this.handOver(action.target);
      case 'next-candidate':
        await this.step('candidate_dropped', 'failed', { node: addr(action.target), reason: action.reason });
        return this.dropCandidate(action);
      case 'repoint':
        await this.afterPromotion(action.master);
        return this.advance(action);
      case 'finish':
        await this.d.store.finish(
          this.record.id,
          'succeeded',
          addr(action.master),
          null,
          this.event('failover.succeeded', {
            from: oldMaster ? addr(oldMaster) : null,
            to: addr(action.master),
            phases: this.phases,
            durationsMs: durations(this.phases),
          }),
          this.record.fence,
        );
        this.state.phase = 'done';
        return;
      case 'give-up':
        return this.giveUp(action.reason, action.unfence);
      case 'abort':
        await this.d.store.finish(this.record.id, 'aborted', null, action.reason, this.event('failover.aborted', { error: action.reason }), this.record.fence);
        this.state.phase = 'aborted';
        return;
      case 'none':
        return;
    }
  }

  private async dropCandidate(action: Extract<Action, { kind: 'next-candidate' }>): Promise<void> {
    this.state.failed = [...this.state.failed, action.target.id];
    await this.d.store.transition(this.record.id, this.record.fence, 'decided', { address: null, runId: null, offset: null });
    this.state.phase = 'decided';
    this.state.target = null;
  }

  /** Makes the promotion survive the node's restart (`CONFIG REWRITE`), where the node allows it. */
  private async persistRole(target: PlanTarget): Promise<void> {
    try {
      await persistConfig(nodeAddress(this.cluster, target), this.timeout);
      await this.step('config_rewritten', 'succeeded', { node: addr(target) });
    } catch (err) {
      await this.step('config_rewritten', 'skipped', { node: addr(target), reason: (err as Error).message });
    }
  }

  /** Records the new master under the fencing token (the database refuses a stale one), then tells the publishers. */
  private async recordAndPublish(target: PlanTarget): Promise<void> {
    const from = this.oldMaster ? addr(this.oldMaster) : null;
    await this.d.store.recordMaster(this.record.id, this.record.fence, target.id, this.event('master.changed', { from, to: addr(target) }));
    this.state.phase = 'recorded';
    const at = new Date();
    this.mark('published', at);
    // This replica's publishers (REST, Sentinel endpoint, DNS) answer the new master before anything else
    // happens; the other replicas follow on the NOTIFY the commit sent.
    await this.d.topology.reloadClusters([this.cluster.id]);
    this.d.masterChanges.emit({
      cluster: this.cluster.name,
      clusterId: this.cluster.id,
      failoverId: this.record.id,
      epoch: this.record.fence.epoch,
      from: this.oldMaster ? { host: this.oldMaster.host, port: this.oldMaster.port } : null,
      to: { host: target.host, port: target.port },
      at,
    });
    await this.step('published', 'succeeded', { master: addr(target), epoch: this.record.fence.epoch }, at);
  }

  /** The planned hand-over: the old master itself waits for the target to catch up before it steps down (no acknowledged write lost). */
  private async handOver(target: PlanTarget): Promise<void> {
    const oldMaster = this.oldMaster!;
    const waitMs = Math.max(1000, Math.min(this.cluster.failoverTimeoutMs, 10_000));
    const abort = async (error: string, detail: Record<string, unknown>) => {
      await this.step('handed_over', 'failed', { node: addr(target), ...detail });
      await this.d.store.finish(
        this.record.id,
        'aborted',
        null,
        error,
        this.event('failover.aborted', { from: addr(oldMaster), to: addr(target), error }),
        this.record.fence,
      );
      this.state.phase = 'aborted';
    };
    try {
      const after = await handOver(nodeAddress(this.cluster, oldMaster), target, waitMs, this.timeout);
      const targetRole = await readRole(nodeAddress(this.cluster, target), this.timeout);
      if (targetRole.role !== 'master') {
        return abort(`the target did not take over (it is ${targetRole.role}; the old master is ${after.role}): Redis aborted the hand-over`, {
          oldMaster: after,
          target: targetRole,
        });
      }
      this.mark('promoted');
      await this.step('handed_over', 'succeeded', { node: addr(target), oldMaster: after, waitMs });
    } catch (err) {
      if (err instanceof FencedError) throw err;
      return abort((err as Error).message, { error: (err as Error).message });
    }
    await this.persistRole(target);
    await this.recordAndPublish(target);
  }

  /**
   * No candidate could be promoted: an old master that this run fenced and that still answers is made
   * master again (never leave a group with no writable master because of Vigil), and the record says why.
   */
  private async giveUp(reason: string, unfence: boolean): Promise<void> {
    const oldMaster = this.oldMaster;
    let unfenced: Record<string, unknown> | null = null;
    if (unfence && oldMaster) {
      try {
        const role = await promoteToMaster(nodeAddress(this.cluster, oldMaster), this.timeout);
        unfenced = { node: addr(oldMaster), role };
        await this.step('old_master_unfenced', 'succeeded', unfenced);
      } catch (err) {
        unfenced = { node: addr(oldMaster), error: (err as Error).message };
        await this.step('old_master_unfenced', 'failed', unfenced);
      }
    }
    await this.d.store.finish(
      this.record.id,
      'failed',
      null,
      reason,
      this.event('failover.failed', {
        from: oldMaster ? addr(oldMaster) : null,
        error: reason,
        excluded: this.observation?.ranking.excluded ?? [],
        ...(unfenced ? { oldMasterUnfenced: unfenced } : {}),
      }),
      this.record.fence,
    );
    this.state.phase = 'failed';
    this.d.logger.error({ cluster: this.cluster.name, error: reason }, 'failover failed');
  }

  /**
   * Disconnects clients on the changed nodes (pools then re-resolve and find the published master),
   * re-points the other replicas, applies the write-safety policy.
   */
  private async afterPromotion(master: PlanTarget): Promise<void> {
    const { cluster } = this;
    const timeout = this.timeout;
    // Not on an old master that did not answer: a command queued on a hung node runs when it wakes, long after.
    const changed = [master, ...(this.oldMaster && this.oldMasterAnswered ? [this.oldMaster] : [])];
    const killed = await Promise.all(
      changed.map(async (n) => {
        try {
          return { node: addr(n), disconnected: await disconnectClients(nodeAddress(cluster, n), timeout) };
        } catch (err) {
          return { node: addr(n), error: (err as Error).message };
        }
      }),
    );
    await this.step('clients_disconnected', 'succeeded', { nodes: killed });

    const others = cluster.nodes.filter((n) => n.id !== master.id && n.id !== this.oldMaster?.id);
    const repointed = await Promise.all(
      others.map(async (n) => {
        try {
          await followMaster(nodeAddress(cluster, n), master, timeout);
          return { node: addr(n), ok: true };
        } catch (err) {
          return { node: addr(n), ok: false, error: (err as Error).message };
        }
      }),
    );
    this.mark('repointed');
    await this.step('replicas_repointed', repointed.every((r) => r.ok) ? 'succeeded' : 'failed', { replicas: repointed });

    if (cluster.minReplicasToWrite > 0) {
      try {
        await applyWriteSafety(nodeAddress(cluster, master), cluster.minReplicasToWrite, cluster.minReplicasMaxLagS, timeout);
        await this.step('write_safety', 'succeeded', { minReplicasToWrite: cluster.minReplicasToWrite, minReplicasMaxLagS: cluster.minReplicasMaxLagS });
      } catch (err) {
        await this.step('write_safety', 'failed', { error: (err as Error).message });
      }
    }
  }

  private observationSummary(): Record<string, unknown> {
    const o = this.observation;
    if (!o) return {};
    const ranking = this.options.target ? restrictTo(o.ranking, o.inputs, this.options.target, this.options.acceptDataLoss) : o.ranking;
    return {
      candidates: ranking.candidates,
      excluded: ranking.excluded,
      ...(this.options.target ? { target: this.options.target, acceptDataLoss: this.options.acceptDataLoss ?? false } : {}),
    };
  }
}

/** Milliseconds from each phase to the next, and in all. */
export function durations(phases: Record<string, string>): Record<string, number> {
  const order = ['faultSeen', 'odown', 'decided', 'promoted', 'published', 'repointed'].filter((p) => phases[p]);
  const out: Record<string, number> = {};
  for (let i = 1; i < order.length; i++) out[`${order[i - 1]}→${order[i]}`] = Date.parse(phases[order[i]!]!) - Date.parse(phases[order[i - 1]!]!);
  if (order.length > 1) out['total'] = Date.parse(phases[order[order.length - 1]!]!) - Date.parse(phases[order[0]!]!);
  return out;
}
