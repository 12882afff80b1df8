import { Injectable } from '@nestjs/common';
import { ErrorCode, VigilError } from '../common/errors.js';
import { type CachedCluster, TopologyCache } from '../topology/topology-cache.service.js';
import { assertEpoch } from '../topology/topology.service.js';
import { DATA_LOSS_CODES, type Ranking, restrictTo } from './candidate-ranking.js';
import { ClusterObserver } from './cluster-observer.js';
import { FailoverRuns } from './failover-runs.js';
import { FencedError } from './failover-store.js';
import { OperatorRefusedError } from './failover.errors.js';
import type { MasterEvidence } from './master-evidence.js';

export type { MasterChanged } from './master-changes.js';

/** How often, and how long each time, an operator's request waits for the sweep's decision on the same cluster. */
const OPERATOR_ATTEMPTS = 3;
const OPERATOR_WAIT_MS = 3000;

const runningError = (name: string) => new OperatorRefusedError('running', ErrorCode.CONFLICT, `a failover of ${name} is already running`);

export interface OperatorOptions {
  target?: string;
  expectedEpoch?: number;
  /** Forced failover with a named target only: promote it even if it holds less data. */
  acceptDataLoss?: boolean;
}

/**
 * The operator's failovers: a forced failover, a planned switchover and the dry run that shows what
 * either would do. They run through the same state machine, fencing and records as automatic ones.
 */
@Injectable()
export class FailoverService {
  constructor(
    private readonly topology: TopologyCache,
    private readonly observer: ClusterObserver,
    private readonly runs: FailoverRuns,
  ) {}

  /** The ranked candidates with the reason for each exclusion, and the master's own evidence, changing nothing. */
  async dryRun(
    name: string,
    target?: string,
    acceptDataLoss = false,
  ): Promise<{ cluster: CachedCluster; ranking: Ranking; target: string | null; acceptDataLoss: boolean; evidence: MasterEvidence | null }> {
    const cluster = this.clusterNamed(name);
    const seen = await this.observer.observe(
      cluster,
      cluster.nodes.find((n) => n.role === 'master'),
    );
    return {
      cluster,
      ranking: target ? restrictTo(seen.ranking, seen.inputs, target, acceptDataLoss) : seen.ranking,
      target: target ?? null,
      acceptDataLoss,
      evidence: seen.evidence,
    };
  }

  /**
   * An operator's forced failover: no ODOWN needed and no cooldown or auto-failover check (the operator
   * decides; maintenance and roles are `OperatorActionsService`'s to check), but never while another
   * runs, and only on the leader. Promotes `target` ("host:port") when
   * given and eligible (or, with `acceptDataLoss`, excluded only for its data), else the best candidate.
   * Resolves with the record's id when it is done.
   */
  manual(name: string, actor: string, options: OperatorOptions): Promise<string> {
    if (options.acceptDataLoss && !options.target) {
      throw VigilError.validation([{ field: 'acceptDataLoss', reason: 'needs a named target: accepting data loss is a decision about one node' }]);
    }
    return this.operatorRun(name, 'manual', actor, options);
  }

  /**
   * A planned, lossless switchover to `target` (or the best candidate) with Redis' FAILOVER command:
   * no acknowledged write is lost; if the target cannot catch up in time Redis aborts and the record
   * says so (outcome `aborted`). Only on the leader, never while another failover runs.
   */
  switchover(name: string, actor: string, options: OperatorOptions): Promise<string> {
    if (options.acceptDataLoss) throw VigilError.validation([{ field: 'acceptDataLoss', reason: 'a switchover never loses data: use a forced failover' }]);
    return this.operatorRun(name, 'switchover', actor, options);
  }

  /**
   * The sweep holds a cluster's slot while it decides, also when the decision is a refusal (a dead master
   * with no safe candidate is re-decided every sweep). An operator's request that meets such a decision
   * waits for it (a few seconds at most) and is checked again, instead of being refused as "running".
   */
  private async operatorRun(name: string, trigger: 'manual' | 'switchover', actor: string, options: OperatorOptions): Promise<string> {
    const epochAsked = this.clusterNamed(name).epoch;
    for (let attempt = 1; ; attempt++) {
      const id = await this.operatorAttempt(name, trigger, actor, options, epochAsked);
      if (id !== undefined) return id;
      const cluster = this.clusterNamed(name);
      if (attempt === OPERATOR_ATTEMPTS || !(await this.runs.settled(cluster.id, OPERATOR_WAIT_MS))) throw runningError(name);
    }
  }

  /** One try: the record's id, or `undefined` when this process's slot for the cluster is taken. */
  private async operatorAttempt(
    name: string,
    trigger: 'manual' | 'switchover',
    actor: string,
    options: OperatorOptions,
    epochAsked: number,
  ): Promise<string | undefined> {
    if (!this.runs.leadership.isLeader()) {
      throw new VigilError(ErrorCode.UNAVAILABLE, 'this controller replica is not the leader; send the request to the leader (GET /leadership)');
    }
    const cluster = this.clusterNamed(name);
    assertEpoch(cluster, options.expectedEpoch);
    if (cluster.epoch !== epochAsked) {
      throw VigilError.conflict(`a failover of ${name} ran while this request waited (epoch ${epochAsked} -> ${cluster.epoch}); look again and retry`);
    }
    const master = cluster.nodes.find((n) => n.role === 'master');
    if (trigger === 'switchover' && !master) throw VigilError.conflict(`cluster ${name} has no recorded master to hand over from`);
    if ((await this.runs.store.history(cluster.id)).running) throw runningError(name);
    // Nothing is started (no epoch raised, no record) when no node may be promoted: the answer says why.
    const seen = await this.observer.observe(cluster, master);
    const ranking = options.target ? restrictTo(seen.ranking, seen.inputs, options.target, options.acceptDataLoss) : seen.ranking;
    if (ranking.candidates.length === 0) {
      const reasons = ranking.excluded.map((e) => `${e.host}:${e.port} ${e.reason}`).join('; ');
      const hint = ranking.excluded.some((e) => DATA_LOSS_CODES.has(e.code) && (!options.target || `${e.host}:${e.port}` === options.target))
        ? ' (a node excluded for its data can be forced: name it as target with acceptDataLoss: true)'
        : '';
      throw VigilError.conflict(
        `no-safe-candidate: no replica of ${name} can be promoted: ${reasons || 'no replicas'}${hint}`,
        options.target ? 'target' : undefined,
      );
    }
    let id = '';
    const run = this.runs.track(cluster.id, async () => {
      const begun = await this.runs.begin(cluster, master, trigger, actor, {
        target: options.target ?? null,
        ...(options.acceptDataLoss ? { acceptDataLoss: true } : {}),
      });
      id = begun.id;
      await this.runs.store.fencedStep(begun.id, begun.fence, 'decided', 'succeeded', begun.startedAt, { epoch: begun.epoch, trigger, actor });
      const runner = this.runs.runner(
        cluster,
        master,
        { id: begun.id, trigger, startedAt: begun.startedAt, fence: begun.fence },
        { decidedOn: seen, ...(options.target ? { target: options.target } : {}), ...(options.acceptDataLoss ? { acceptDataLoss: true } : {}) },
      );
      await runner.run();
    });
    if (!run) return undefined;
    try {
      await run;
    } catch (err) {
      if (err instanceof FencedError) throw VigilError.conflict(err.message, 'expectedEpoch');
      throw err;
    }
    return id;
  }

  private clusterNamed(name: string): CachedCluster {
    const cluster = this.topology.snapshot.clustersByName.get(name);
    if (!cluster) throw VigilError.notFound(`cluster ${name}`);
    return cluster;
  }
}
