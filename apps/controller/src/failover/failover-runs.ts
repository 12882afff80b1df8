import { Inject, Injectable, Logger } from '@nestjs/common';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/config.js';
import { LeadershipService } from '../leadership/leadership.service.js';
import { type CachedCluster, type CachedNode, TopologyCache } from '../topology/topology-cache.service.js';
import { ClusterObserver } from './cluster-observer.js';
import { FailoverRunner, type RunOptions } from './failover-runner.js';
import { FailoverStore, type FenceToken } from './failover-store.js';
import type { FailoverEntity } from './failover.entity.js';
import { MasterChanges } from './master-changes.js';

const addr = (n: { host: string; port: number }) => `${n.host}:${n.port}`;

/**
 * The failovers running in this process, at most one per cluster, whoever started them (detection's
 * triggers, an operator, the resumption of another leader's record). Opens records under the fencing
 * token and hands them to a `FailoverRunner`.
 */
@Injectable()
export class FailoverRuns {
  readonly logger = new Logger('FailoverRunner');
  private readonly active = new Map<string, Promise<unknown>>();
  readonly actor: string;

  constructor(
    readonly store: FailoverStore,
    private readonly observer: ClusterObserver,
    private readonly topology: TopologyCache,
    readonly leadership: LeadershipService,
    private readonly masterChanges: MasterChanges,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
  ) {
    this.actor = `controller:${config.controllerName}`;
  }

  isActive(clusterId: string): boolean {
    return this.active.has(clusterId);
  }

  /**
   * Whether the cluster's slot in this process became free within `timeoutMs` (an automatic decision
   * that ends in a refusal holds it for as long as it takes to look at the nodes).
   */
  async settled(clusterId: string, timeoutMs: number): Promise<boolean> {
    const current = this.active.get(clusterId);
    if (!current) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const done = await Promise.race([current.then(() => true as const), timeout]);
    clearTimeout(timer);
    return done && !this.active.has(clusterId);
  }

  /** Settles when every run in this process has ended (shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled(this.active.values());
  }

  /** Raises the epoch and opens a record under this leader's lease; throws `FencedError` when the epoch or the lease moved on. */
  begin(cluster: CachedCluster, master: CachedNode | undefined, trigger: FailoverEntity['trigger'], actor: string, data: Record<string, unknown>) {
    return this.store.begin({
      cluster,
      expectedEpoch: cluster.epoch,
      trigger,
      fromAddress: master ? addr(master) : null,
      actor,
      lease: { holder: this.leadership.identity, term: this.leadership.currentTerm },
      event: { data: { from: master ? addr(master) : null, ...data } },
    });
  }

  /** A runner for a record (not yet started), wired to this process. */
  runner(
    cluster: CachedCluster,
    oldMaster: CachedNode | undefined,
    record: { id: string; trigger: FailoverEntity['trigger']; startedAt: Date; fence: FenceToken },
    options: RunOptions = {},
  ): FailoverRunner {
    return new FailoverRunner(
      {
        store: this.store,
        observer: this.observer,
        topology: this.topology,
        leadership: this.leadership,
        masterChanges: this.masterChanges,
        config: this.config,
        actor: this.actor,
        logger: this.logger,
      },
      cluster,
      oldMaster,
      record,
      options,
    );
  }

  /**
   * Runs `work` as the cluster's one failover in this process; `undefined` (nothing done) when one runs
   * already. Errors are the caller's to handle: the returned promise rejects with them.
   */
  track<T>(clusterId: string, work: () => Promise<T>): Promise<T> | undefined {
    if (this.active.has(clusterId)) return undefined;
    const run = work();
    this.active.set(
      clusterId,
      run.catch(() => undefined).finally(() => this.active.delete(clusterId)),
    );
    return run;
  }
}
